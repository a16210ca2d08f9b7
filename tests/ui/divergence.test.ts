// A run driven to NaN is contained: training stops at the step where the loss went non-finite,
// the training panel says so in place with the likely cause, Resume, Download and sampling are
// refused for the poisoned state (no checkpoint with non-finite weights is ever produced), and the
// last autosave, which is finite, is offered and restores the run as it was.

import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';
import { actionState, inApp, typeInto } from './page-helpers.ts';

const SCREENSHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
let page: Page;

beforeAll(async () => {
  page = await newPage();
  await page.goto(inject('harnessUrl').replace('harness.html', 'index.html?split=test&limit=64'));
  await waitInPage(page, () => (window as any).ddpmDemo?.engine.kind === 'ready' && (window as any).ddpmDemo.dataset.status === 'ready', { polling: 200 });
  await page.evaluate(() => (window as any).ddpmDemo.discardAutosave());
});

afterAll(async () => {
  await page?.evaluate(() => (window as any).ddpmDemo?.discardAutosave()).catch(() => undefined);
  await page?.close();
});

const panelText = () => page.$eval(inApp('train-panel'), (e) => e.shadowRoot!.textContent!.replace(/\s+/g, ' '));

test('a learning rate of 1 set mid-run drives the loss to NaN: the run is contained and the autosave offered', async () => {
  await typeInto(page, 'train-panel', 'batchSize', '4');
  await typeInto(page, 'train-panel', 'warmupSteps', '0');
  await typeInto(page, 'train-panel', 'targetSteps', '100000');
  await typeInto(page, 'train-panel', 'qualityEvery', '0');
  await typeInto(page, 'train-panel', 'autosaveEvery', '4');
  await page.click(inApp('train-panel >>> button[name=start]'));
  await waitInPage(page, () => (window as any).ddpmDemo.autosave.savedStep === 4, { polling: 100 });
  await page.click(inApp('train-panel >>> button[name=pause]'));
  await waitInPage(page, () => !(window as any).ddpmDemo.trainingBusy, { polling: 100 });
  const pausedAt = await page.evaluate(() => (window as any).ddpmDemo.training.step);
  // No save after this point: the autosave at step 4 is the last finite state.
  await typeInto(page, 'train-panel', 'autosaveEvery', '0');
  // The largest rate the field takes: Adam moves every weight by about 1 per step.
  await typeInto(page, 'train-panel', 'lr', '1');
  await page.click(inApp('train-panel >>> button[name=start]'));
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'diverged', { polling: 250 });

  const state = await page.evaluate(() => {
    const demo = (window as any).ddpmDemo;
    return { step: demo.training.step, divergence: demo.divergence, lastRecord: demo.records[demo.records.length - 1], saved: demo.autosave.savedStep, offer: demo.autosave.offer, canSample: demo.canSample };
  });
  expect(state.divergence.what).toMatch(/the loss became (NaN|-?Infinity)/);
  expect(state.divergence.step).toBe(state.step);
  expect(state.lastRecord.step).toBe(state.step - 1);
  expect(Number.isFinite(state.lastRecord.loss)).toBe(true);
  expect(state.divergence.cause).toContain(`the learning rate 1 (set at step ${pausedAt})`);
  expect(state.offer.step).toBe(4);
  expect(state.saved).toBe(4);
  expect(state.canSample).toBe(false);

  // In place, in the training panel, not in a banner above section 1.
  const text = await panelText();
  expect(text).toContain(`Training diverged at step ${state.step}`);
  expect(text).toContain('Likely cause: the learning rate 1');
  expect(text).toContain('Download is off');
  expect(await page.$eval(inApp('train-panel >>> button[name=diverged-resume-autosave]'), (b) => b.textContent!.trim())).toBe(
    `Go back to the autosave at step ${state.saved}`,
  );
  expect(await page.$eval('ddpm-app', (e) => e.shadowRoot!.querySelector('.alert')?.textContent ?? '')).toBe('');
  mkdirSync(SCREENSHOTS, { recursive: true });
  await (await page.$(inApp('train-panel')))!.screenshot({ path: `${SCREENSHOTS}run-diverged.png` });

  // Resume, Download and Sample are refused.
  const start = await actionState(page, 'train-panel', 'start');
  expect(start.disabled).toBe(true);
  expect(start.blocked).toContain('the run diverged');
  expect(await page.$eval(inApp('train-panel >>> button[name=download]'), (b) => (b as HTMLButtonElement).disabled)).toBe(true);
  expect((await actionState(page, 'sampler-view', 'sample')).disabled).toBe(true);
  expect(await page.evaluate(() => (window as any).ddpmDemo.downloadableCheckpoint())).toBeNull();
  expect(await page.evaluate(() => (window as any).ddpmDemo.errors.training)).toContain('not offered');
  // Even past the page's own flag, the session does not write the non-finite state.
  const written = await page.evaluate(async () => {
    const demo = (window as any).ddpmDemo;
    demo.divergence = null;
    demo.training = { ...demo.training, phase: 'paused' };
    const link = await demo.downloadableCheckpoint();
    return { link, phase: demo.training.phase, what: demo.divergence?.what ?? null };
  });
  expect(written.link).toBeNull();
  expect(written.phase).toBe('diverged');
  expect(written.what).toContain('holds non-finite values');
  await page.evaluate(() => (window as any).ddpmDemo.startTraining({ preset: 'fashion-16', batchSize: 4, lr: 0.002, warmupSteps: 0, emaDecay: 0.999, seed: 0, targetSteps: 100000 }));
  expect(await page.evaluate(() => (window as any).ddpmDemo.training.phase)).toBe('diverged');

  // Going back restores the autosaved run: its step, rate, curve, target and cadences.
  await page.click(inApp('train-panel >>> button[name=diverged-resume-autosave]'));
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'paused', { polling: 100 });
  const back = await page.evaluate(() => {
    const demo = (window as any).ddpmDemo;
    return {
      step: demo.training.step,
      target: demo.training.targetSteps,
      lr: demo.training.summary.lr,
      records: demo.records.map((r: { step: number; loss: number }) => r.step),
      finite: demo.records.every((r: { loss: number }) => Number.isFinite(r.loss)),
      autosaveEvery: demo.autosave.every,
      divergence: demo.divergence,
      canSample: demo.canSample,
    };
  });
  expect(back).toMatchObject({ step: state.saved, target: 100000, lr: 0.002, finite: true, autosaveEvery: 4, divergence: null, canSample: true });
  expect(back.records).toEqual(Array.from({ length: state.saved }, (_, i) => i));
  expect((await actionState(page, 'train-panel', 'start')).disabled).toBe(false);
  expect(await page.evaluate(() => (window as any).ddpmDemo.errors.training)).toBeNull();
});
