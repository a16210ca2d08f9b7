// Starts the harness page in headless Chromium, served by a Vite dev server, so the engine runs on
// WebGPU (SwiftShader when there is no GPU) under the CLI and the tests.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createServer, type ViteDevServer } from 'vite';
import { REPO_ROOT } from './repo-root.ts';

const BROWSER_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

// A hang guard for the browser's start and the harness page's load (6 s together on one pinned core).
const READY_TIMEOUT_MS = 300_000;
// page.evaluate() is one CDP call; whole check or bench runs on SwiftShader can take many minutes.
const PROTOCOL_TIMEOUT_MS = 60 * 60_000;

export interface BrowserSessionOptions {
  headless?: boolean;
  log?: (line: string) => void;
  /** Path of the page under the repo root. */
  page?: string;
}

export interface BrowserSession {
  browser: Browser;
  page: Page;
  server: ViteDevServer;
  /** URL of the harness page. */
  url: string;
  /** Uncaught errors the page has thrown so far. */
  pageErrors: string[];
  /** Reloads the page (fresh engine code and GPU device) and waits until the harness is ready. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export function findBrowser(): string {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROME_PATH is set to ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  const found = BROWSER_CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  throw new Error(
    `no Chromium or Chrome found (tried CHROME_PATH, ${BROWSER_CANDIDATES.join(', ')}); ` +
      `run \`bash scripts/setup.sh\` to install Chromium, or set CHROME_PATH`,
  );
}

export function browserArgs(userDataDir: string): string[] {
  const args = [
    '--no-sandbox',
    // Without it, requestAdapter() returns null in Chromium on Linux.
    '--enable-unsafe-webgpu',
    // Exact GPU timestamps for the bench (Dawn otherwise rounds them to 2^16 ns).
    '--disable-dawn-features=timestamp_quantization',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    '--disable-dev-shm-usage',
    `--user-data-dir=${userDataDir}`,
  ];
  // Chromium already falls back to SwiftShader when there is no GPU; the flag pins it so results
  // don't depend on the machine. DDPM_SWIFTSHADER=0 lets a real GPU be used.
  if (process.env.DDPM_SWIFTSHADER !== '0') args.push('--use-webgpu-adapter=swiftshader');
  return args;
}

export async function startBrowserSession(opts: BrowserSessionOptions = {}): Promise<BrowserSession> {
  const log = opts.log;
  const pageErrors: string[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log?.(`cleanup failed: ${(err as Error).message}`);
      }
    }
  };

  try {
    const executablePath = findBrowser();

    const server = await createServer({
      root: REPO_ROOT,
      logLevel: 'error',
      clearScreen: false,
      appType: 'mpa',
      // No port: Vite treats 0 as "default" (5173) and, with strictPort off, moves up until one is free.
      // No websocket: nothing may reload the page under a running test (GPU state would be lost).
      server: { host: '127.0.0.1', strictPort: false, hmr: false, ws: false },
    });
    cleanups.push(() => server.close());
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the Vite dev server has no TCP address');
    const url = `http://127.0.0.1:${address.port}/${opts.page ?? 'harness.html'}`;

    const userDataDir = mkdtempSync(join(tmpdir(), 'ddpm-chromium-'));
    const removeProfile = () => rmSync(userDataDir, { recursive: true, force: true });
    // If the process dies without close(), still don't leave the profile behind.
    process.once('exit', removeProfile);
    cleanups.push(() => {
      process.off('exit', removeProfile);
      removeProfile();
    });

    const browser = await puppeteer.launch({
      executablePath,
      // Signals are the CLI's to handle (Ctrl-C during training saves a checkpoint first); the
      // browser runs in its own process group and is closed by close().
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      headless: opts.headless ?? true,
      args: browserArgs(userDataDir),
      defaultViewport: null,
      protocolTimeout: PROTOCOL_TIMEOUT_MS,
      timeout: READY_TIMEOUT_MS,
    });
    cleanups.push(() => browser.close());
    // A CLI stopped by a signal (src/cli/main.ts exits on SIGTERM) takes its browser with it.
    const killBrowser = () => browser.process()?.kill('SIGKILL');
    process.once('exit', killBrowser);
    cleanups.push(() => {
      process.off('exit', killBrowser);
    });

    const page = (await browser.pages())[0] ?? (await browser.newPage());
    page.on('console', (msg) => {
      // The Vite client still tries its websocket, which we disabled; its complaints are noise.
      if (msg.location().url?.includes('/@vite/client')) return;
      log?.(`[page ${msg.type()}] ${msg.text()}`);
    });
    page.on('pageerror', (err) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      pageErrors.push(text);
      log?.(`[page uncaught] ${text}`);
    });
    // tsx (which runs the CLI) compiles with keepNames, wrapping named functions in __name(...) calls;
    // functions handed to page.evaluate() are re-parsed in the page, where __name has to exist too.
    await page.evaluateOnNewDocument('globalThis.__name = globalThis.__name || ((fn) => fn);');

    const response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: READY_TIMEOUT_MS });
    if (response && !response.ok()) throw new Error(`${url} answered HTTP ${response.status()}`);
    await waitForHarness(page, url, pageErrors);

    const reload = async (): Promise<void> => {
      pageErrors.length = 0;
      await page.reload({ waitUntil: 'domcontentloaded', timeout: READY_TIMEOUT_MS });
      await waitForHarness(page, url, pageErrors);
    };
    return { browser, page, server, url, pageErrors, reload, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function waitForHarness(page: Page, url: string, pageErrors: string[]): Promise<void> {
  try {
    await page.waitForFunction(
      () => (window as any).ddpmHarnessReady === true || (window as any).ddpmHarnessError != null,
      { timeout: READY_TIMEOUT_MS, polling: 100 },
    );
  } catch (err) {
    throw new Error(
      `the harness at ${url} did not become ready within ${READY_TIMEOUT_MS / 1000} s ` +
        `(window.ddpmHarnessReady never became true)${describeErrors(pageErrors)}`,
      { cause: err },
    );
  }
  const error = await page.evaluate(() => (window as any).ddpmHarnessError as unknown);
  if (error != null) throw new Error(`the harness at ${url} failed to start: ${String(error)}${describeErrors(pageErrors)}`);
}

function describeErrors(pageErrors: string[]): string {
  return pageErrors.length ? `\npage errors:\n${pageErrors.join('\n')}` : '';
}
