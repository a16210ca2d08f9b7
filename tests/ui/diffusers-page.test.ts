// The demo page loads diffusers models and samples from them: a UNet2DModel folder's files picked
// through the file input, and a whole DDPMPipeline folder served at ?model=URL. The model is the
// PyTorch reference fixture's UNet2DModel (3x8x8), so the page needs no dataset.

import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/torch-reference/tiny_unet/', import.meta.url));
const FILES = ['config.json', 'diffusion_pytorch_model.safetensors'].map((f) => FIXTURE + f);
// Served by the dev server from the (ignored) test-results folder.
const PIPELINE_DIR = fileURLToPath(new URL('../../test-results/diffusers-pipeline/', import.meta.url));

const SCREENSHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
let page: Page | null = null;

afterAll(async () => {
  await page?.close();
  rmSync(PIPELINE_DIR, { recursive: true, force: true });
});

async function openDemo(query: string): Promise<Page> {
  await page?.close();
  page = await newPage();
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(inject('harnessUrl').replace('harness.html', `index.html${query}`));
  await waitInPage(page, () => (window as any).ddpmDemo?.engine.kind === 'ready', { polling: 200 });
  return page;
}

async function el(p: Page, selector: string): Promise<ElementHandle<Element>> {
  const handle = await waitInPage(p, (s) => {
      // Through the open shadow roots: ddpm-app >>> sampler-view >>> selector.
      const view = document.querySelector('ddpm-app')?.shadowRoot?.querySelector('sampler-view')?.shadowRoot;
      return view?.querySelector(s) ?? null;
    }, { polling: 200 }, selector);
  return handle as ElementHandle<Element>;
}

/** Samples 4 images with DDIM-5 and returns how many pixels of the result grid are drawn. */
async function sampleGrid(p: Page): Promise<number> {
  for (const [name, value] of [['n', '4'], ['steps', '5'], ['every', '1']] as const) {
    await (await el(p, `input[name=${name}]`)).evaluate((e, v) => {
      (e as HTMLInputElement).value = v;
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }
  await (await el(p, 'button[name=sample]')).click();
  await waitInPage(p, () => (window as any).ddpmDemo.sampling.result !== null, { polling: 250 });
  const canvas = await (await el(p, 'image-grid.result')).evaluateHandle((g) => g.shadowRoot!.querySelector('canvas')!);
  return canvas.evaluate((c) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const values = new Set<number>();
    let inked = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3]! > 0) inked++;
      values.add(d[i]! * 65536 + d[i + 1]! * 256 + d[i + 2]!);
    }
    // Drawn and not one flat colour.
    return values.size > 20 ? inked : 0;
  });
}

test('a UNet2DModel folder picked in the page samples a non-blank grid', async () => {
  const p = await openDemo('?autoload=0');
  const input = (await el(p, 'input[name=diffusers-files]')) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(...FILES);
  await waitInPage(p, () => (window as any).ddpmDemo.imported !== null || (window as any).ddpmDemo.errors.model);
  const state = await p.evaluate(() => ({ imported: (window as any).ddpmDemo.imported?.summary, error: (window as any).ddpmDemo.errors.model }));
  expect(state.error).toBeNull();
  expect(state.imported).toMatch(/^UNet2DModel 3×8×8, 0\.\d+M parameters, linear schedule T = 1000/);
  expect(await sampleGrid(p)).toBeGreaterThan(100);
  expect(await (await el(p, 'figcaption')).evaluate((e) => e.textContent)).toContain('config.json');
  const view = await waitInPage(p, () => document.querySelector('ddpm-app')!.shadowRoot!.querySelector('sampler-view'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  await (view as ElementHandle<Element>).screenshot({ path: `${SCREENSHOTS}diffusers-page.png` });
});

test('a DDPMPipeline folder served at ?model=URL samples a non-blank grid; a broken one says why', async () => {
  rmSync(PIPELINE_DIR, { recursive: true, force: true });
  mkdirSync(PIPELINE_DIR + 'unet', { recursive: true });
  mkdirSync(PIPELINE_DIR + 'scheduler', { recursive: true });
  for (const f of FILES) copyFileSync(f, PIPELINE_DIR + 'unet/' + f.slice(FIXTURE.length));
  writeFileSync(
    PIPELINE_DIR + 'model_index.json',
    JSON.stringify({ _class_name: 'DDPMPipeline', _diffusers_version: '0.31.0', scheduler: ['diffusers', 'DDPMScheduler'], unet: ['diffusers', 'UNet2DModel'] }),
  );
  writeFileSync(
    PIPELINE_DIR + 'scheduler/scheduler_config.json',
    JSON.stringify({ _class_name: 'DDPMScheduler', _diffusers_version: '0.31.0', beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: 1000, prediction_type: 'epsilon' }),
  );
  const p = await openDemo('?autoload=0&model=/test-results/diffusers-pipeline/');
  await waitInPage(p, () => (window as any).ddpmDemo.imported !== null || (window as any).ddpmDemo.errors.model);
  const state = await p.evaluate(() => ({ imported: (window as any).ddpmDemo.imported?.summary, error: (window as any).ddpmDemo.errors.model }));
  expect(state.error).toBeNull();
  expect(state.imported).toMatch(/^pipeline 3×8×8, .* cosine schedule T = 1000, predicts eps/);
  expect(await sampleGrid(p)).toBeGreaterThan(100);

  rmSync(PIPELINE_DIR + 'unet/diffusion_pytorch_model.safetensors');
  const broken = await openDemo('?autoload=0&model=/test-results/diffusers-pipeline/');
  await waitInPage(broken, () => (window as any).ddpmDemo.errors.model);
  expect(await broken.evaluate(() => (window as any).ddpmDemo.errors.model)).toContain('unet/diffusion_pytorch_model.safetensors is missing');
  // Shown where the model is loaded (the sampling panel's model row), not in a banner above section 1.
  const shownIn = await broken.evaluate(() => {
    const app = document.querySelector('ddpm-app')!.shadowRoot!;
    return {
      sampler: app.querySelector('sampler-view')!.shadowRoot!.querySelector('.model-source .panel-error')?.textContent ?? '',
      banner: app.querySelector('.alert')?.textContent ?? '',
    };
  });
  expect(shownIn.sampler).toContain('unet/diffusion_pytorch_model.safetensors is missing');
  expect(shownIn.banner).toBe('');
});
