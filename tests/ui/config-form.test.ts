// The training form shows what a config costs before it runs (parameters, FLOPs per step, memory)
// and refuses, with the reason, one that exceeds the adapter's limits.

import type { Page } from 'puppeteer-core';
import { afterAll, expect, inject, test } from 'vitest';
import { presetFootprint } from '../../src/app/footprint.ts';
import { harnessPage } from '../setup/page.ts';

let page: Page | null = null;

afterAll(async () => {
  await page?.close();
});

test('footprints count what `ddpm model` counts', () => {
  const f = presetFootprint('fashion-16', 32);
  expect(f.parameters).toBe(173_209);
  expect(f.flopsPerStep / 32 / 3).toBeGreaterThan(11e6); // ~12 MFLOP per image forward
  expect(f.flopsPerStep / 32 / 3).toBeLessThan(13e6);
  expect(f.stateBytes).toBe(5 * 4 * 173_209);
  expect(presetFootprint('ddpm-cifar10', 1).parameters).toBe(35_746_307);
});

test('the form shows the cost and refuses a config beyond the adapter', { timeout: 120_000 }, async () => {
  page = await (await harnessPage()).browser().newPage();
  await page.goto(inject('harnessUrl').replace('harness.html', 'index.html?split=test&limit=64'));
  await page.waitForFunction(() => (window as any).ddpmDemo?.engine.kind === 'ready' && (window as any).ddpmDemo.dataset.status === 'ready', { timeout: 90_000 });
  const panelText = () => page!.$eval('ddpm-app >>> train-panel', (e) => e.shadowRoot!.textContent!.replace(/\s+/g, ' '));
  expect(await panelText()).toMatch(/173\.2k parameters · \d+\.\d\d GFLOP per step · memory ≥ [\d.]+ MiB/);
  // The DDPM paper's CIFAR-10 network at batch 20000: a 10 GiB activation.
  await page.$eval('ddpm-app >>> train-panel >>> select[name=preset]', (e) => {
    (e as HTMLSelectElement).value = 'ddpm-cifar10';
    e.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.$eval('ddpm-app >>> train-panel >>> input[name=batchSize]', (e) => {
    (e as HTMLInputElement).value = '20000';
    e.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.waitForFunction(() => /cannot train here/.test(document.querySelector('ddpm-app')!.shadowRoot!.querySelector('train-panel')!.shadowRoot!.textContent!), { timeout: 30_000 });
  expect(await panelText()).toMatch(/This config cannot train here: its largest activation \(\d+ MiB\) exceeds this adapter's max\w+ \(\d+ MiB\)/);
  expect(await page.$eval('ddpm-app >>> train-panel >>> button[name=start]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
});
