// What the CLI commands share: a browser session around the harness page, and calls into it.

import type { HarnessProtocol, ResultOf } from '../app/index.ts';
import { startBrowserSession, type BrowserSession } from './browser.ts';

const verbose = process.env.DDPM_VERBOSE === '1';

export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs `fn` with a fresh harness page, and always shuts the browser and the server down. */
export async function withHarness<T>(fn: (session: BrowserSession) => Promise<T>): Promise<T> {
  progress('starting Chromium…');
  const started = Date.now();
  const session = await startBrowserSession({
    log: (line) => {
      // Page warnings and errors always; everything else with DDPM_VERBOSE=1.
      if (verbose || /^\[page (error|warn|uncaught)\]/.test(line)) process.stderr.write(`${line}\n`);
    },
  });
  progress(`harness ready at ${session.url} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/**
 * Calls `window.ddpmHarness[method]()` in the page and returns its result. Non-finite numbers
 * survive the trip (plain page.evaluate turns a NaN inside an object into null).
 */
export async function callHarness<K extends keyof HarnessProtocol>(session: BrowserSession, method: K): Promise<ResultOf<HarnessProtocol, K>> {
  const json = await session.page.evaluate(async (name: string) => {
    const harness = (window as any).ddpmHarness;
    if (typeof harness?.[name] !== 'function') return null;
    const value = await harness[name]();
    return JSON.stringify({ value }, (_key, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v,
    );
  }, method);
  if (json === null) {
    throw new Error(`window.ddpmHarness.${method}() is not defined; src/harness/main.ts has to provide it`);
  }
  const parsed = JSON.parse(json, (_key, v) =>
    v !== null && typeof v === 'object' && Object.keys(v).length === 1 && typeof v.nonFinite === 'string'
      ? Number(v.nonFinite)
      : v,
  ) as { value: ResultOf<HarnessProtocol, K> };
  return parsed.value;
}
