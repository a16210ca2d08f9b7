// Node's side of the in-page session (src/harness/session.ts): calls, and bytes both ways in
// base64 chunks.

import type { BrowserSession } from './browser.ts';

const CHUNK = 4 * 1024 * 1024;

/** Calls `window.ddpmHarness.session[method](...args)` and returns its (JSON) result. */
export async function callSession<T>(s: BrowserSession, method: string, ...args: unknown[]): Promise<T> {
  return (await s.page.evaluate(
    async (name: string, rest: unknown[]) => {
      const session = (window as any).ddpmHarness?.session;
      if (typeof session?.[name] !== 'function') throw new Error(`the page has no session.${name}()`);
      return session[name](...rest);
    },
    method,
    args,
  )) as T;
}

/** Sends bytes to the page (they become the session's `incoming` buffer). */
export async function sendBytes(s: BrowserSession, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at === 0 || at < bytes.length; at += CHUNK) {
    const part = Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(CHUNK, bytes.length - at)).toString('base64');
    await callSession(s, 'receive', part, at === 0);
    if (bytes.length === 0) break;
  }
}

/** Fetches the bytes the page last offered ({bytes, chunks} from the call that made them). */
export async function takeBytes(s: BrowserSession, offered: { bytes: number; chunks: number }): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for (let i = 0; i < offered.chunks; i++) parts.push(Buffer.from(await callSession<string>(s, 'take', i), 'base64'));
  const out = Buffer.concat(parts);
  if (out.length !== offered.bytes) throw new Error(`expected ${offered.bytes} bytes from the page, got ${out.length}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
