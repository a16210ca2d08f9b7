// Runs survive the tab: training autosaves its full state to the origin private file system,
// a reload offers the run back, resuming continues from its step with identical parameters (the
// checkpoint bytes are the same) and the run's history (target, cadences, loss curve, learning-rate
// changes), and the saved run can be discarded.

import type { Page } from 'puppeteer-core';
import { afterAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';

let page: Page | null = null;

afterAll(async () => {
  await page?.evaluate(() => (window as any).ddpmDemo?.discardAutosave()).catch(() => undefined);
  await page?.close();
});

const inApp = (selector: string) => `ddpm-app >>> ${selector}`;

async function ready(p: Page): Promise<void> {
  await waitInPage(p, () => (window as any).ddpmDemo?.engine.kind === 'ready' && (window as any).ddpmDemo.dataset.status === 'ready', { polling: 200 });
}

/** The trainer's checkpoint bytes, summarised (FNV-1a) in the page. */
function checkpointHash(p: Page): Promise<{ hash: number; length: number; step: number }> {
  return p.evaluate(async () => {
    const demo = (window as any).ddpmDemo;
    const link = await demo.downloadableCheckpoint();
    const bytes = new Uint8Array(await (await fetch(link.url)).arrayBuffer());
    let h = 0x811c9dc5;
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    return { hash: h, length: bytes.length, step: demo.training.step };
  });
}

async function setField(p: Page, selector: string, value: string): Promise<void> {
  const handle = await p.waitForSelector(inApp(selector));
  await handle!.evaluate((e, v) => {
    (e as HTMLInputElement).value = v;
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

test('a reload offers the autosaved run, which resumes at its step with identical parameters and its whole history', async () => {
  page = await newPage();
  const url = inject('harnessUrl').replace('harness.html', 'index.html?split=test&limit=64');
  await page.goto(url);
  await ready(page);
  await page.evaluate(() => (window as any).ddpmDemo.discardAutosave());
  await setField(page, 'train-panel >>> input[name=batchSize]', '4');
  await setField(page, 'train-panel >>> input[name=targetSteps]', '2');
  await setField(page, 'train-panel >>> input[name=qualityEvery]', '0');
  await setField(page, 'train-panel >>> input[name=autosaveEvery]', '4');
  await (await page.waitForSelector(inApp('train-panel >>> button[name=start]')))!.click();
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'finished', { polling: 250 });
  // A learning-rate change and a new target before the save at step 4; the run goes on to 6.
  await setField(page, 'train-panel >>> input[name=lr]', '0.001');
  await waitInPage(page, () => (window as any).ddpmDemo.training.summary?.lr === 0.001);
  await setField(page, 'train-panel >>> input[name=targetSteps]', '6');
  await (await page.waitForSelector(inApp('train-panel >>> button[name=start]')))!.click();
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'finished' && (window as any).ddpmDemo.training.step === 6, { polling: 250 });
  expect(await page.evaluate(() => (window as any).ddpmDemo.autosave.savedStep)).toBe(4);
  const before = await page.evaluate(async () => {
    const demo = (window as any).ddpmDemo;
    const file = await (await (await navigator.storage.getDirectory()).getFileHandle('ddpm-autosave.safetensors')).getFile();
    const bytes = new Uint8Array(await file.arrayBuffer());
    let h = 0x811c9dc5;
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    return { saved: { hash: h, length: bytes.length, step: 4 }, records: demo.records.slice(0, 4), lrChanges: demo.lrChanges };
  });
  expect(before.lrChanges).toEqual([{ step: 2, lr: 0.001 }]);

  await page.reload();
  await ready(page);
  await waitInPage(page, () => (window as any).ddpmDemo.autosave.offer !== null);
  // A fresh page: the defaults, until the run is resumed.
  expect(await page.evaluate(() => [(window as any).ddpmDemo.training.targetSteps, (window as any).ddpmDemo.quality.every, (window as any).ddpmDemo.autosave.every])).toEqual([2000, 250, 100]);
  expect(await page.evaluate(() => (window as any).ddpmDemo.autosave.offer.step)).toBe(4);
  const resume = await page.waitForSelector(inApp('button[name=resume-autosave]'));
  expect(await resume!.evaluate((b) => b.textContent!.trim())).toBe('Resume run from step 4');
  await resume!.click();
  await waitInPage(page, () => (window as any).ddpmDemo.training.step === 4 && (window as any).ddpmDemo.autosave.offer === null);
  const after = await checkpointHash(page);
  expect(after).toEqual(before.saved);
  const restored = await page.evaluate(() => {
    const demo = (window as any).ddpmDemo;
    return {
      target: demo.training.targetSteps,
      qualityEvery: demo.quality.every,
      autosaveEvery: demo.autosave.every,
      lr: demo.training.summary.lr,
      records: demo.records,
      lrChanges: demo.lrChanges,
    };
  });
  expect(restored).toEqual({ target: 6, qualityEvery: 0, autosaveEvery: 4, lr: 0.001, records: before.records, lrChanges: before.lrChanges });
  // …and the panel shows it: "step 4 / 6", the target field, the loss curve, the rate's history.
  const panel = await page.$eval(inApp('train-panel'), async (e) => {
    await (e as Element & { updateComplete: Promise<unknown> }).updateComplete;
    const root = e.shadowRoot!;
    return {
      text: root.textContent!.replace(/\s+/g, ' '),
      target: (root.querySelector('input[name=targetSteps]') as HTMLInputElement).value,
      qualityEvery: (root.querySelector('input[name=qualityEvery]') as HTMLInputElement).value,
    };
  });
  expect(panel.text).toContain('step 4 / 6');
  expect(panel.text).toContain('changed: 0.001 from step 2');
  expect(panel).toMatchObject({ target: '6', qualityEvery: '0' });

  await page.evaluate(() => (window as any).ddpmDemo.discardAutosave());
  await page.reload();
  await ready(page);
  await page.evaluate(() => (window as any).ddpmDemo.findAutosave());
  expect(await page.evaluate(() => (window as any).ddpmDemo.autosave.offer)).toBeNull();
});

test('pause stops GPU work; the learning rate changes mid-run', async () => {
  const p = page!;
  await p.evaluate(() => (window as any).ddpmDemo.resetTraining());
  await setField(p, 'train-panel >>> input[name=targetSteps]', '100000');
  await setField(p, 'train-panel >>> input[name=autosaveEvery]', '0');
  await (await p.waitForSelector(inApp('train-panel >>> button[name=start]')))!.click();
  await waitInPage(p, () => (window as any).ddpmDemo.training.step >= 3, { polling: 100 });
  await setField(p, 'train-panel >>> input[name=lr]', '0.0005');
  await waitInPage(p, () => (window as any).ddpmDemo.training.summary?.lr === 0.0005);
  await (await p.waitForSelector(inApp('train-panel >>> button[name=pause]')))!.click();
  await waitInPage(p, () => (window as any).ddpmDemo.training.phase === 'paused');
  // The chunk in flight finishes; then nothing is submitted while paused.
  await waitInPage(p, () => !(window as any).ddpmDemo.trainingBusy, { polling: 50 });
  const before = await p.evaluate(() => (window as any).ddpmDemo.gpuCounters());
  const step = await p.evaluate(() => (window as any).ddpmDemo.training.step);
  await new Promise((r) => setTimeout(r, 2000));
  const after = await p.evaluate(() => (window as any).ddpmDemo.gpuCounters());
  expect(after.submits).toBe(before.submits);
  expect(after.dispatches).toBe(before.dispatches);
  expect(await p.evaluate(() => (window as any).ddpmDemo.training.step)).toBe(step);
  // The new rate is the run's: a checkpoint records it.
  const lr = await p.evaluate(async () => {
    const link = await (window as any).ddpmDemo.downloadableCheckpoint();
    const bytes = new Uint8Array(await (await fetch(link.url)).arrayBuffer());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    return JSON.parse(header.__metadata__.config).optimizer.lr;
  });
  expect(lr).toBe(0.0005);
});

test('after a lost device the restarted engine offers the last autosave', async () => {
  const p = page!;
  await p.evaluate(() => (window as any).ddpmDemo.resetTraining());
  await setField(p, 'train-panel >>> input[name=targetSteps]', '2');
  await setField(p, 'train-panel >>> input[name=autosaveEvery]', '2');
  await (await p.waitForSelector(inApp('train-panel >>> button[name=start]')))!.click();
  await waitInPage(p, () => (window as any).ddpmDemo.training.phase === 'finished' && (window as any).ddpmDemo.autosave.savedStep === 2);
  // A string, so the test runner's transform leaves the dynamic import alone.
  await p.evaluate(`import('/src/engine/runtime.ts').then((m) => m.runtime().device.destroy())`);
  await waitInPage(p, () => (window as any).ddpmDemo.engine.kind === 'lost', { polling: 100 });
  await p.evaluate(() => (window as any).ddpmDemo.restartEngine());
  await waitInPage(p, () => (window as any).ddpmDemo.engine.kind === 'ready' && (window as any).ddpmDemo.autosave.offer?.step === 2);
  await (await p.waitForSelector(inApp('button[name=resume-autosave]')))!.click();
  await waitInPage(p, () => (window as any).ddpmDemo.training.step === 2 && (window as any).ddpmDemo.training.phase === 'paused');
  await p.evaluate(() => (window as any).ddpmDemo.discardAutosave());
});
