// Where the CLI's engine runs: in headless Chromium (the harness page, the default) or in this
// Node process through Dawn (the `webgpu` npm package), chosen by `--host browser|node`. Both
// offer the same two protocols (src/app/protocol.ts): the training session and the harness drivers.

import type { BrowserSession } from './browser.ts';

export type HostKind = 'browser' | 'node';
export const HOST_KINDS: readonly HostKind[] = ['browser', 'node'];

export interface Host {
  readonly kind: HostKind;
  /** Where the engine runs, for progress lines: the harness page's URL, or Node's adapter. */
  readonly where: string;
  /** Calls `session[method](...args)` and returns its result (structured-clone-safe values). */
  callSession(method: string, args: readonly unknown[]): Promise<unknown>;
  /** Calls `harness[method](...args)`; non-finite numbers survive. */
  callHarness(method: string, args?: readonly unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** The browser host: calls evaluated in the harness page. */
export function browserHost(session: BrowserSession): Host {
  return {
    kind: 'browser',
    where: session.url,
    callSession: (method, args) =>
      session.page.evaluate(
        async (name: string, rest: unknown[]) => {
          const s = (window as any).ddpmHarness?.session;
          if (typeof s?.[name] !== 'function') throw new Error(`the page has no session.${name}()`);
          return s[name](...rest);
        },
        method,
        [...args],
      ),
    async callHarness(method, args = []) {
      // JSON with non-finite numbers tagged: plain page.evaluate turns a NaN inside an object into null.
      const json = await session.page.evaluate(
        async (name: string, rest: unknown[]) => {
          const harness = (window as any).ddpmHarness;
          if (typeof harness?.[name] !== 'function') return null;
          const value = await harness[name](...rest);
          return JSON.stringify({ value }, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v));
        },
        method,
        [...args],
      );
      if (json === null) throw new Error(`window.ddpmHarness.${method}() is not defined; src/harness/main.ts has to provide it`);
      const parsed = JSON.parse(json, (_key, v) =>
        v !== null && typeof v === 'object' && Object.keys(v).length === 1 && typeof v.nonFinite === 'string' ? Number(v.nonFinite) : v,
      ) as { value: unknown };
      return parsed.value;
    },
    close: () => session.close(),
  };
}
