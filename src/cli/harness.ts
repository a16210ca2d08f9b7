// What the CLI commands share: a browser session around the harness page, and calls into it.

import type { ArgsOf, HarnessProtocol, ResultOf } from '../app/index.ts';
import { browserHost, type Host, type HostKind } from './host.ts';

const verbose = process.env.DDPM_VERBOSE === '1';

export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

let hostKind: HostKind = process.env.DDPM_HOST === 'node' ? 'node' : 'browser';

/** Chooses where the next commands' engine runs (the CLI's global `--host`). */
export function useHost(kind: HostKind): void {
  hostKind = kind;
}

/** Where the engine of the next commands runs: 'browser' (headless Chromium) or 'node' (Dawn). */
export function hostName(): HostKind {
  return hostKind;
}

/**
 * DDPM_TUNING='{"convTiledMinChannels":64}': kernel choices (src/engine/tuning.ts) replaced in
 * either host, for A/B runs of one workload under two shapes; '{"shapesFor":"gpu"}' first takes
 * every choice a real GPU gets (its kernels, checked on a CPU adapter).
 */
function tuningOverrides(): Record<string, unknown> | null {
  const text = process.env.DDPM_TUNING;
  if (!text) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`DDPM_TUNING must be a JSON object of kernel tuning fields: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`DDPM_TUNING must be a JSON object of kernel tuning fields, not ${text}`);
  }
  return parsed as Record<string, unknown>;
}

/** Runs `fn` with a fresh engine host (headless Chromium, or Dawn in Node), and always shuts it down. */
export async function withHarness<T>(fn: (host: Host) => Promise<T>): Promise<T> {
  const started = Date.now();
  const overrides = tuningOverrides();
  let host: Host;
  if (hostKind === 'node') {
    progress('starting WebGPU in Node (Dawn)…');
    const { startNodeHost } = await import('./node-host.ts');
    host = await startNodeHost();
  } else {
    progress('starting Chromium…');
    // Loaded only here, so the Node host runs where puppeteer and vite are not installed.
    const { startBrowserSession } = await import('./browser.ts');
    host = browserHost(
      await startBrowserSession({
        log: (line) => {
          // Page warnings and errors always; everything else with DDPM_VERBOSE=1.
          if (verbose || /^\[page (error|warn|uncaught)\]/.test(line)) process.stderr.write(`${line}\n`);
        },
      }),
    );
  }
  if (overrides) {
    try {
      await callHarness(host, 'setTuning', overrides);
    } catch (e) {
      await host.close();
      throw e;
    }
  }
  progress(`${hostKind === 'node' ? 'engine' : 'harness'} ready: ${host.where} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  try {
    return await fn(host);
  } finally {
    await host.close();
  }
}

/** Calls the harness driver `method` (window.ddpmHarness[method](...args) in the page) and returns its result. */
export async function callHarness<K extends keyof HarnessProtocol>(
  host: Host,
  method: K,
  ...args: ArgsOf<HarnessProtocol, K>
): Promise<ResultOf<HarnessProtocol, K>> {
  return (await host.callHarness(method, args)) as ResultOf<HarnessProtocol, K>;
}
