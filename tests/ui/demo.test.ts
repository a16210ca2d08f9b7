// The demo page (index.html) in its own tab of the shared browser: the shell reports the device,
// the panels draw real content, a few training steps on Fashion-MNIST move the loss chart,
// sampling shows the reverse process, checkpoints round-trip, and a lost device or a browser
// without WebGPU get a clear message. Leaves a screenshot in test-results/demo.png.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { HangGuardError, PAGE_LIMIT_MS, tracked, waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';

// Screenshots go to the ignored test-results/ folder, so a test run leaves the checkout clean.
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const WIDTH = 1360;
let page: Page;

/** The page URL, with Fashion-MNIST's small test split and only a few of its images. */
function demoUrl(query = '?split=test&limit=64'): string {
  return inject('harnessUrl').replace('harness.html', `index.html${query}`);
}

/**
 * The first element matching `selector` inside <ddpm-app>'s shadow trees, polled (waitForSelector
 * watches for DOM mutations, which misses changes inside shadow roots).
 */
async function el(selector: string, limitMs = PAGE_LIMIT_MS): Promise<ElementHandle<Element>> {
  const started = Date.now();
  return tracked(`waiting for an element matching ${selector}`, async () => {
    for (;;) {
      const found = await page.$(`ddpm-app >>> ${selector}`);
      if (found) return found;
      const waited = Date.now() - started;
      if (waited > limitMs) throw new HangGuardError(`no element matches ${selector} after ${(waited / 1000).toFixed(0)} s, stopped by its hang guard of ${limitMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
}

async function text(selector: string): Promise<string> {
  return (await el(selector)).evaluate((e) => (e.shadowRoot ?? e).textContent?.replace(/\s+/g, ' ') ?? '');
}

async function setField(selector: string, value: string): Promise<void> {
  await (await el(selector)).evaluate((e, v) => {
    (e as HTMLInputElement | HTMLSelectElement).value = v;
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

async function click(selector: string): Promise<void> {
  const button = await el(selector);
  await waitInPage(page, (b) => !(b as HTMLButtonElement).disabled, {}, button);
  await button.click();
}

/** Pixels of a canvas that are not transparent and not white (what was actually drawn). */
function inkedPixels(canvas: ElementHandle<Element>): Promise<number> {
  return canvas.evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    if (canvas.width === 0 || canvas.height === 0) return 0;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && (d[i]! < 240 || d[i + 1]! < 240 || d[i + 2]! < 240)) n++;
    return n;
  });
}

beforeAll(async () => {
  page = await newPage();
  await page.setViewport({ width: WIDTH, height: 1000 });
  await page.goto(demoUrl());
  await waitInPage(page, () => {
      const demo = (window as any).ddpmDemo;
      return demo?.engine.kind === 'ready' && demo.dataset.status === 'ready';
    }, { polling: 200 });
});

afterAll(async () => {
  await page?.close();
});

test('the shell names the GPU adapter and the schedule plots are drawn', async () => {
  const device = await text('device-info');
  expect(device).toContain('WebGPU');
  expect(device).toMatch(/swiftshader|fallback/i);

  const canvases = await page.$$('ddpm-app >>> schedule-view >>> canvas');
  expect(canvases).toHaveLength(3);
  for (const c of canvases) expect(await inkedPixels(c)).toBeGreaterThan(2000);
  const linear = await text('schedule-view');
  expect(linear).toContain('4.04e-5'); // ᾱ at t = T−1 for the linear schedule, T = 1000

  await setField('schedule-view >>> select', 'cosine');
  await waitInPage(page, (before) => {
      const host = document.querySelector('ddpm-app')!.shadowRoot!.querySelector('schedule-view')!;
      return host.shadowRoot!.textContent !== before;
    }, {}, linear);
  expect(await text('schedule-view')).not.toContain('4.04e-5');
  await setField('schedule-view >>> select', 'linear');
});

test('the forward process shows one Fashion-MNIST image at 8 timesteps', async () => {
  await waitInPage(page, () => {
      const chain = document.querySelector('ddpm-app')!.shadowRoot!.querySelector('noising-chain')!.shadowRoot!;
      return chain.querySelectorAll('figure image-grid').length === 8 && chain.textContent!.includes('t = 999');
    }, { polling: 200 });
  const labels = await text('noising-chain');
  expect(labels).toContain('t = 0');
  expect(labels).toContain('ᾱ = 1.000');
  const cells = await page.$$('ddpm-app >>> noising-chain >>> figure image-grid');
  const drawn = await Promise.all(
    cells.map(async (g) => inkedPixels((await g.evaluateHandle((e) => e.shadowRoot!.querySelector('canvas')!)) as ElementHandle<Element>)),
  );
  expect(drawn.every((n) => n > 50)).toBe(true);
});

test('a few training steps on Fashion-MNIST move the loss chart', async () => {
  await setField('train-panel >>> input[name=batchSize]', '4');
  await setField('train-panel >>> input[name=targetSteps]', '4');
  await setField('train-panel >>> input[name=qualityEvery]', '2');
  await click('train-panel >>> button[name=start]');
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'finished', { polling: 250 });
  const losses = await page.evaluate(() => (window as any).ddpmDemo.records.map((r: { loss: number }) => r.loss) as number[]);
  expect(losses).toHaveLength(4);
  expect(losses.every((l) => Number.isFinite(l) && l > 0 && l < 5)).toBe(true);
  const stats = await text('train-panel');
  expect(stats).toMatch(/step 4 \/ 4/);
  expect(stats).toMatch(/speed \d+\.\d+ steps\/s/);
  expect(await inkedPixels(await el('train-panel >>> loss-chart >>> canvas'))).toBeGreaterThan(2000);
  // Quality measured at steps 2 and 4 (64 EMA samples each), on the chart beside the loss.
  const quality = await page.evaluate(() => (window as any).ddpmDemo.quality);
  expect(quality.note).toBe('');
  expect(quality.points.map((p: { step: number }) => p.step)).toEqual([2, 4]);
  expect(quality.points.every((p: { normalised: number }) => Number.isFinite(p.normalised) && p.normalised > 0.5)).toBe(true);
  expect(await inkedPixels(await el('train-panel >>> line-chart.quality >>> canvas'))).toBeGreaterThan(1000);
});

test('the likelihood view shows the bound of the trained model on held-out images', async () => {
  await setField('likelihood-view >>> input[name=images]', '4');
  await setField('likelihood-view >>> input[name=terms]', '4');
  await click('likelihood-view >>> button[name=compute-bound]');
  await waitInPage(page, () => (window as any).ddpmDemo.bound.report !== null || (window as any).ddpmDemo.errors.likelihood, { polling: 250 });
  const bound = await page.evaluate(() => ({ report: (window as any).ddpmDemo.bound.report, error: (window as any).ddpmDemo.errors.likelihood }));
  expect(bound.error).toBeNull();
  expect(bound.report.images).toBe(4);
  expect(Number.isFinite(bound.report.bpd) && bound.report.bpd > 0).toBe(true);
  // The same total the view prints, and one chart point per evaluated KL term.
  expect(await text('likelihood-view')).toContain(`total ${bound.report.bpd.toFixed(3)} bits/dim (estimate)`);
  expect(await inkedPixels(await el('likelihood-view >>> line-chart >>> canvas'))).toBeGreaterThan(500);
});

test('sampling shows x_t and the predicted x0 as they arrive, then the samples', async () => {
  await setField('sampler-view >>> input[name=n]', '16');
  await setField('sampler-view >>> input[name=steps]', '5');
  await setField('sampler-view >>> input[name=every]', '1');
  await click('sampler-view >>> button[name=sample]');
  await waitInPage(page, () => (window as any).ddpmDemo.sampling.result !== null, { polling: 250 });
  const frames = await page.evaluate(() => (window as any).ddpmDemo.sampling.frames.map((f: { t: number }) => f.t) as number[]);
  expect(frames).toHaveLength(5);
  expect(frames[frames.length - 1]).toBe(0);
  expect(await text('sampler-view')).toContain('Samples');
  expect(await inkedPixels(await el('sampler-view >>> image-grid.result >>> canvas'))).toBeGreaterThan(100);

  // The whole page, for the docs: a viewport as tall as the page avoids stitching artefacts.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewport({ width: WIDTH, height });
  await new Promise((resolve) => setTimeout(resolve, 300));
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, 'demo.png') });
  await page.setViewport({ width: WIDTH, height: 1000 });
});

test('a downloaded checkpoint resumes training at its step', async () => {
  const cdp = await page.createCDPSession();
  await cdp.send('Page.setDownloadBehavior', { behavior: 'deny' });
  await click('train-panel >>> button[name=download]');
  const link = await el('train-panel >>> a[download]');
  const name = await link.evaluate((a) => a.getAttribute('download'));
  expect(name).toBe('ddpm-fashion-16-step4.safetensors');
  const base64 = await link.evaluate(async (a) => {
    const bytes = new Uint8Array(await (await fetch((a as HTMLAnchorElement).href)).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  });
  await cdp.detach();

  await click('train-panel >>> button[name=reset]');
  await click('train-panel >>> button[name=reset-confirm]');
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'none');
  const dir = mkdtempSync(join(tmpdir(), 'ddpm-demo-'));
  try {
    const file = join(dir, name!);
    writeFileSync(file, Buffer.from(base64, 'base64'));
    const input = (await el('train-panel >>> input[type=file][accept=".safetensors"]')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(file);
    await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'paused', { polling: 200 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(await page.evaluate(() => (window as any).ddpmDemo.training.step)).toBe(4);
  expect(await text('train-panel')).toContain('Resume');
});

test('a lost device gets a message and a way back', async () => {
  // A string, so the test runner's transform leaves the dynamic import alone.
  await page.evaluate(`import('/src/engine/runtime.ts').then((m) => m.runtime().device.destroy())`);
  await waitInPage(page, () => (window as any).ddpmDemo.engine.kind === 'lost', { polling: 100 });
  const banner = await text('device-info');
  expect(banner).toContain('GPU device was lost');
  expect(banner).toContain('Restart the GPU');
});

test('without WebGPU the page says so and still plots the schedules', async () => {
  const bare = await newPage();
  try {
    await bare.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await bare.goto(demoUrl());
    await waitInPage(bare, () => (window as any).ddpmDemo?.engine.kind === 'unavailable', { polling: 200 });
    const banner = await (await bare.waitForSelector('ddpm-app >>> device-info'))!.evaluate((e) => e.shadowRoot!.textContent!);
    expect(banner).toContain('needs WebGPU');
    const plot = await bare.waitForSelector('ddpm-app >>> schedule-view >>> canvas');
    expect(await inkedPixels(plot!)).toBeGreaterThan(2000);
  } finally {
    await bare.close();
  }
});
