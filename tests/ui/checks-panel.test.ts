// The page's gradient-check panel runs every op check on this browser's GPU and shows each op
// passing, row by row, as `ddpm check` does.

import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';

const SCREENSHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
let page: Page | null = null;

afterAll(async () => {
  await page?.close();
});

// Hang guards: at least 5x the slowest run measured on one pinned core (57 s).
test('the check panel shows every op passing on this GPU', { timeout: 900_000 }, async () => {
  page = await newPage();
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(inject('harnessUrl').replace('harness.html', 'index.html?autoload=0'));
  await waitInPage(page, () => (window as any).ddpmDemo?.engine.kind === 'ready', { polling: 200 });
  const panel = (await waitInPage(page, () => document.querySelector('ddpm-app')?.shadowRoot?.querySelector('op-checks'))) as ElementHandle<Element>;
  const button = (await panel.evaluateHandle((p) => p.shadowRoot!.querySelector('button[name=run-checks]')!)) as ElementHandle<HTMLButtonElement>;
  await waitInPage(page, (b) => !b.disabled, {}, button);
  await button.click();
  // Rows arrive while the run goes on.
  await waitInPage(page, () => (window as any).ddpmDemo.checks.rows.length >= 2, { polling: 250 });
  await waitInPage(page, () => !(window as any).ddpmDemo.checks.running, { polling: 500, limitMs: 600_000, what: 'the check run' });
  const state = await page.evaluate(() => ({ ...(window as any).ddpmDemo.checks, error: (window as any).ddpmDemo.errors.checks }));
  expect(state.error).toBeNull();
  expect(state.rows.length).toBe(state.total);
  expect(state.rows.filter((r: { pass: boolean }) => !r.pass).map((r: { op: string }) => r.op)).toEqual([]);
  const shown = await panel.evaluate((p) => ({
    rows: p.shadowRoot!.querySelectorAll('tbody tr').length,
    passes: [...p.shadowRoot!.querySelectorAll('td.pass')].length,
    summary: p.shadowRoot!.querySelector('[role=status]')!.textContent!.trim(),
  }));
  expect(shown).toEqual({ rows: state.total, passes: state.total, summary: `all ${state.total} ops pass` });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await panel.screenshot({ path: `${SCREENSHOTS}check-panel.png` });
});
