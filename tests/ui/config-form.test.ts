// The training form shows what a config costs before it runs (parameters, FLOPs per step, memory)
// and refuses, with the reason, one that exceeds the adapter's limits.

import type { Page } from 'puppeteer-core';
import { afterAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { presetFootprint } from '../../src/app/footprint.ts';
import { preset } from '../../src/model/config.ts';
import { largestPerSampleBytes } from '../../src/model/micro-batches.ts';
import { newPage } from '../setup/page.ts';

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

test('the form shows the cost, and a batch beyond one storage binding as micro-batches', async () => {
  page = await newPage();
  await page.goto(inject('harnessUrl').replace('harness.html', 'index.html?split=test&limit=64'));
  await waitInPage(page, () => (window as any).ddpmDemo?.engine.kind === 'ready' && (window as any).ddpmDemo.dataset.status === 'ready');
  const panelText = () => page!.$eval('ddpm-app >>> train-panel', (e) => e.shadowRoot!.textContent!.replace(/\s+/g, ' '));
  expect(await panelText()).toMatch(/173\.2k parameters · \d+\.\d\d GFLOP per step · memory ≥ [\d.]+ MiB/);
  expect(await panelText()).not.toMatch(/micro-batches/);
  // The DDPM paper's CIFAR-10 network at batch 4096 (the largest the field takes): a 6 GiB activation, 1.5 MiB a sample.
  await page.$eval('ddpm-app >>> train-panel >>> select[name=preset]', (e) => {
    (e as HTMLSelectElement).value = 'ddpm-cifar10';
    e.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.$eval('ddpm-app >>> train-panel >>> input[name=batchSize]', (e) => {
    (e as HTMLInputElement).value = '4096';
    e.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await waitInPage(page, () => /micro-batches/.test(document.querySelector('ddpm-app')!.shadowRoot!.querySelector('train-panel')!.shadowRoot!.textContent!));
  const limit = await page.evaluate(() => {
    const limits = (window as any).ddpmDemo.engine.report.limits;
    return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) as number;
  });
  const perSample = largestPerSampleBytes(preset('ddpm-cifar10'));
  const parts = Math.ceil(4096 / Math.floor(limit / perSample));
  expect(await panelText()).toMatch(new RegExp(`the batch runs as ${parts} micro-batches \\(its largest tensor, [\\d.]+ GiB, exceeds this adapter's storage-binding limit\\)`));
  expect(await panelText()).not.toMatch(/cannot train here/);
});
