// `npm run build` makes a site that works from any static host: built into a temporary folder and
// served by a plain file server (no dev server, no /@fs/), the page loads the Fashion-MNIST copy
// beside it by default and trains.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, expect, test } from 'vitest';
import { runProcess, waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.gz': 'application/octet-stream' };

let out = '';
let server: Server | null = null;
let page: Page | null = null;

afterAll(async () => {
  await page?.close();
  server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** A static file server over `dir`: files as they are, no encodings, 404 for anything else. */
function serve(dir: string): Promise<number> {
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)));
}

test('the static build loads Fashion-MNIST from beside the page and trains', async () => {
  out = mkdtempSync(join(tmpdir(), 'ddpm-site-'));
  // As `npm run build` runs it: vitest's NODE_ENV=test would make a development build.
  // Hang guard: at least 5x the slowest build measured on one pinned core (5 s).
  const built = await runProcess('vite build', 'npx', ['vite', 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], { cwd: ROOT, env: { NODE_ENV: 'production' }, limitMs: 300_000 });
  expect(built.code, built.stderr).toBe(0);
  expect(statSync(join(out, 'data/fashion-mnist/train-images-idx3-ubyte.gz')).size).toBeGreaterThan(20e6);
  const port = await serve(out);
  page = await newPage();
  const logged: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') logged.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => logged.push(`pageerror: ${(e as Error).message}`));
  // A subfolder of the host, as a static site often is: every URL must be relative.
  await page.goto(`http://127.0.0.1:${port}/index.html?split=test&limit=64`);
  await waitInPage(page, () => {
      const demo = (window as any).ddpmDemo;
      return demo && (demo.dataset.status === 'ready' || demo.dataset.status === 'error' || demo.error);
    }, { polling: 250 });
  const dataset = await page.evaluate(() => ({ status: (window as any).ddpmDemo.dataset.status, error: (window as any).ddpmDemo.errors.training, detail: (window as any).ddpmDemo.dataset.message || null }));
  expect(dataset).toEqual({ status: 'ready', error: null, detail: null });
  // Two training steps of the default recipe on that data.
  await page.evaluate(async () => {
    const demo = (window as any).ddpmDemo;
    await demo.startTraining({ preset: 'fashion-16', batchSize: 4, lr: 2e-3, warmupSteps: 1, emaDecay: 0.9, targetSteps: 2, seed: 0 });
  });
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'finished' || (window as any).ddpmDemo.errors.training, { polling: 250 });
  const run = await page.evaluate(() => ({ losses: (window as any).ddpmDemo.records.map((r: { loss: number }) => r.loss), error: (window as any).ddpmDemo.errors.training }));
  expect(run.error).toBeNull();
  expect(run.losses).toHaveLength(2);
  expect(run.losses.every((l: number) => Number.isFinite(l) && l > 0)).toBe(true);
  // The production page says nothing on the console.
  expect(logged).toEqual([]);
});
