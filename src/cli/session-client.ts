// The CLI's side of the session (SessionProtocol in src/app/protocol.ts), on either host: typed
// calls, and bytes both ways in base64 chunks.

import { CHUNK, type ArgsOf, type Offered, type ResultOf, type SessionProtocol } from '../app/index.ts';
import type { Host } from './host.ts';

/** Calls `session[method](...args)` on the host and returns its result. */
export async function callSession<K extends keyof SessionProtocol>(
  s: Host,
  method: K,
  ...args: ArgsOf<SessionProtocol, K>
): Promise<ResultOf<SessionProtocol, K>> {
  return (await s.callSession(method, args as unknown[])) as ResultOf<SessionProtocol, K>;
}

/** Sends bytes to the page (they become the session's received bytes). */
export async function sendBytes(s: Host, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at === 0 || at < bytes.length; at += CHUNK) {
    const part = Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(CHUNK, bytes.length - at)).toString('base64');
    await callSession(s, 'receive', part, at === 0);
    if (bytes.length === 0) break;
  }
}

/** Fetches the bytes the page last offered ({bytes, chunks} from the call that made them). */
export async function takeBytes(s: Host, offered: Offered): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for (let i = 0; i < offered.chunks; i++) parts.push(Buffer.from(await callSession(s, 'take', i), 'base64'));
  const out = Buffer.concat(parts);
  if (out.length !== offered.bytes) throw new Error(`expected ${offered.bytes} bytes from the page, got ${out.length}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
