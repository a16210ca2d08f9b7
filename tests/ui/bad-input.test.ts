// The page under the values people actually type: every number field answers a refused value
// beside itself (what is allowed, the value still in force), the action it would break is off
// with the reason in view, and fixing the field turns it back on. Also: the learning rate refused
// mid-run, errors shown in the panel where they happen, Reset that asks, the data's real reason,
// the schedule that never reaches noise, the pipelines phase, and a narrowing window.

import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';
import { actionState, fieldAnswer, inApp, numberFields, sidewaysOverflow, typeInto } from './page-helpers.ts';

const SCREENSHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
let page: Page;

beforeAll(async () => {
  page = await newPage();
  await page.setViewport({ width: 1360, height: 1000 });
  await page.goto(inject('harnessUrl').replace('harness.html', 'index.html?split=test&limit=64'));
  await waitInPage(page, () => (window as any).ddpmDemo?.engine.kind === 'ready' && (window as any).ddpmDemo.dataset.status === 'ready', { polling: 200 });
  await page.evaluate(() => (window as any).ddpmDemo.discardAutosave());
});

afterAll(async () => {
  await page?.close();
});

interface FieldCase {
  host: string;
  name: string;
  /** A value the field accepts (typed back at the end). */
  valid: string;
  /** Values it refuses besides '' and unreadable text. */
  refused: string[];
  /** The button the refused value turns off. */
  action: { host: string; button: string };
}

const START = { host: 'train-panel', button: 'start' };

/** Types each refused value and its valid one back, checking the answer beside the field and the action. */
async function sweep(c: FieldCase): Promise<void> {
  for (const bad of ['', '--1', ...c.refused]) {
    await typeInto(page, c.host, c.name, bad);
    const answer = await fieldAnswer(page, c.host, c.name);
    const where = `${c.host}/${c.name} = '${bad}'`;
    expect(answer.ariaInvalid, where).toBe('true');
    expect(answer.messageShown, where).toBe(true);
    expect(answer.message, where).toMatch(/must be (a whole number|a number)/);
    expect(answer.message, where).toMatch(/still \S+\.$/);
    const action = await actionState(page, c.action.host, c.action.button);
    expect(action.disabled, where).toBe(true);
    expect(action.blocked, where).toMatch(/is off: .*fix /);
    expect((await numberFields(page)).silentlyInvalid, where).toEqual([]);
  }
  await typeInto(page, c.host, c.name, c.valid);
  const fixed = await fieldAnswer(page, c.host, c.name);
  expect(fixed, `${c.host}/${c.name} = '${c.valid}'`).toMatchObject({ ariaInvalid: 'false', message: '', nativeInvalid: false });
}

test('every number field of a new run answers a refused value beside itself and turns Start or Load off', async () => {
  const fields = await numberFields(page);
  // The fields there are before a model exists (DDIM's fields in the sampler); a new field must join a sweep.
  expect(fields.all).toEqual(
    [
      'dataset-picker/limit',
      'likelihood-view/images',
      'likelihood-view/terms',
      'sampler-view/eta',
      'sampler-view/every',
      'sampler-view/n',
      'sampler-view/seed',
      'sampler-view/steps',
      'schedule-view/T',
      'train-panel/autosaveEvery',
      'train-panel/batchSize',
      'train-panel/emaDecay',
      'train-panel/lr',
      'train-panel/qualityEvery',
      'train-panel/seed',
      'train-panel/targetSteps',
      'train-panel/warmupSteps',
    ].sort(),
  );
  expect(fields.silentlyInvalid).toEqual([]);
  expect((await actionState(page, 'train-panel', 'start')).disabled).toBe(false);

  const cases: FieldCase[] = [
    { host: 'train-panel', name: 'batchSize', valid: '4', refused: ['0', '4097', '2.5'], action: START },
    { host: 'train-panel', name: 'lr', valid: '0.002', refused: ['0', '-1', '2.5', '1e9'], action: START },
    { host: 'train-panel', name: 'warmupSteps', valid: '50', refused: ['-1', '1.5'], action: START },
    { host: 'train-panel', name: 'emaDecay', valid: '0.999', refused: ['1', '-0.1', '1.5'], action: START },
    { host: 'train-panel', name: 'seed', valid: '0', refused: ['-1', '0.5', '4294967296'], action: START },
    { host: 'train-panel', name: 'targetSteps', valid: '2', refused: ['0', '1.5'], action: START },
    { host: 'train-panel', name: 'qualityEvery', valid: '0', refused: ['-1', '2.5'], action: START },
    { host: 'train-panel', name: 'autosaveEvery', valid: '0', refused: ['-50'], action: START },
    { host: 'schedule-view', name: 'T', valid: '1000', refused: ['1', '10001', '2.5'], action: START },
    { host: 'dataset-picker', name: 'limit', valid: '64', refused: ['-1', '0.5'], action: { host: 'dataset-picker', button: 'load' } },
  ];
  for (const c of cases) await sweep(c);

  // The last valid value stayed in force throughout; the messages name it.
  await typeInto(page, 'train-panel', 'batchSize', '0');
  expect((await fieldAnswer(page, 'train-panel', 'batchSize')).message).toBe(
    'The batch size must be a whole number from 1 to 4096, not 0; still 4.',
  );
  mkdirSync(SCREENSHOTS, { recursive: true });
  await (await page.$(inApp('train-panel')))!.screenshot({ path: `${SCREENSHOTS}field-refused.png` });
  await typeInto(page, 'train-panel', 'batchSize', '4');
  expect(await page.evaluate(() => (window as any).ddpmDemo.training.targetSteps)).toBe(2);
  // "every k steps" takes any whole number (no step=50 attribute making 20 :invalid) and says what 0 means.
  await typeInto(page, 'train-panel', 'qualityEvery', '20');
  expect(await fieldAnswer(page, 'train-panel', 'qualityEvery')).toMatchObject({ ariaInvalid: 'false', nativeInvalid: false });
  expect(await page.evaluate(() => (window as any).ddpmDemo.quality.every)).toBe(20);
  const labels = await page.$eval(inApp('train-panel'), (e) => e.shadowRoot!.textContent!);
  expect(labels).toContain('Quality every k steps (0: never)');
  expect(labels).toContain('Autosave every k steps (0: never)');
  await typeInto(page, 'train-panel', 'qualityEvery', '0');
});

test('a schedule that never reaches noise is warned about; ddpm-cifar10 on 1-channel data gives the real reason', async () => {
  await typeInto(page, 'schedule-view', 'T', '100');
  const warning = await page.$eval(inApp('schedule-view'), (e) => e.shadowRoot!.querySelector('.warning')?.textContent ?? '');
  expect(warning).toContain('never reaches noise');
  expect(warning).toContain('0.603');
  await typeInto(page, 'schedule-view', 'T', '1000');
  expect(await page.$eval(inApp('schedule-view'), (e) => e.shadowRoot!.querySelector('.warning'))).toBeNull();

  await page.$eval(inApp('train-panel >>> select[name=preset]'), (s) => {
    (s as HTMLSelectElement).value = 'ddpm-cifar10';
    s.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await waitInPage(page, () => (window as any).ddpmDemo.dataset.status === 'error', { polling: 200 });
  const start = await actionState(page, 'train-panel', 'start');
  expect(start.disabled).toBe(true);
  expect(start.blocked).not.toContain('Load a dataset first');
  expect(start.blocked).toContain('cannot be used with this model');
  expect(start.blocked).toContain(await page.evaluate(() => (window as any).ddpmDemo.dataset.message));
  await page.$eval(inApp('train-panel >>> select[name=preset]'), (s) => {
    (s as HTMLSelectElement).value = 'fashion-16';
    s.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await waitInPage(page, () => (window as any).ddpmDemo.dataset.status === 'ready', { polling: 200 });
});

test('training shows its pipelines phase; the run then refuses a learning rate of 1e9 beside the field', async () => {
  await page.evaluate(() => {
    const demo = (window as any).ddpmDemo;
    type Rendered = Element & { updateComplete: Promise<unknown> };
    const app = document.querySelector('ddpm-app') as Rendered;
    const panel = app.shadowRoot!.querySelector('train-panel') as Rendered;
    (window as any).phasesSeen = [];
    demo.addEventListener('change', () => {
      if (!demo.training.buildingPipelines) return;
      void app.updateComplete
        .then(() => panel.updateComplete)
        .then(() => (window as any).phasesSeen.push(panel.shadowRoot!.querySelector('.phase')!.textContent));
    });
  });
  await page.click(inApp('train-panel >>> button[name=start]'));
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'finished', { polling: 250 });
  expect(await page.evaluate(() => (window as any).phasesSeen)).toContain('building pipelines');
  expect(await page.evaluate(() => (window as any).ddpmDemo.training.buildingPipelines)).toBe(false);

  await typeInto(page, 'train-panel', 'lr', '1e9');
  const lr = await fieldAnswer(page, 'train-panel', 'lr');
  expect(lr.message).toBe('The learning rate must be a number above 0 and at most 1, not 1e9; still 0.002.');
  expect(await page.evaluate(() => (window as any).ddpmDemo.training.summary.lr)).toBe(0.002);
  await typeInto(page, 'train-panel', 'targetSteps', '3');
  const resume = await actionState(page, 'train-panel', 'start');
  expect(resume.disabled).toBe(true);
  expect(resume.blocked).toContain('fix the learning rate beside its field');
  await typeInto(page, 'train-panel', 'lr', '0.002');
  expect((await actionState(page, 'train-panel', 'start')).disabled).toBe(false);
  await typeInto(page, 'train-panel', 'targetSteps', '2');
});

test('with a model, the sampler and the bound answer their refused values and turn Sample and Compute off', async () => {
  const SAMPLE = { host: 'sampler-view', button: 'sample' };
  const COMPUTE = { host: 'likelihood-view', button: 'compute-bound' };
  expect((await actionState(page, 'sampler-view', 'sample')).disabled).toBe(false);
  expect((await actionState(page, 'likelihood-view', 'compute-bound')).disabled).toBe(false);
  const cases: FieldCase[] = [
    { host: 'sampler-view', name: 'n', valid: '4', refused: ['0', '1025', '1.5'], action: SAMPLE },
    { host: 'sampler-view', name: 'steps', valid: '5', refused: ['0', '1001', '1.5'], action: SAMPLE },
    { host: 'sampler-view', name: 'eta', valid: '0', refused: ['-0.1', '1.5'], action: SAMPLE },
    { host: 'sampler-view', name: 'every', valid: '1', refused: ['0', '1.5'], action: SAMPLE },
    { host: 'sampler-view', name: 'seed', valid: '0', refused: ['-1'], action: SAMPLE },
    { host: 'likelihood-view', name: 'images', valid: '8', refused: ['0', '10001'], action: COMPUTE },
    { host: 'likelihood-view', name: 'terms', valid: '4', refused: ['0', '1000'], action: COMPUTE },
  ];
  for (const c of cases) await sweep(c);
  expect((await fieldAnswer(page, 'sampler-view', 'steps')).message).toBe('');
  await typeInto(page, 'sampler-view', 'steps', '1001');
  expect((await fieldAnswer(page, 'sampler-view', 'steps')).message).toContain('from 1 to 1000');
  await typeInto(page, 'sampler-view', 'steps', '5');

  // A failure shows in the panel where it happened, not in the banner above section 1.
  // (a request from the console, which no field checked)
  await page.evaluate(() => (window as any).ddpmDemo.computeBound({ images: 0, terms: 4 }));
  const shown = await page.evaluate(async () => {
    const app = document.querySelector('ddpm-app')!.shadowRoot!;
    const view = app.querySelector('likelihood-view')! as Element & { updateComplete: Promise<unknown> };
    await view.updateComplete;
    return { panel: view.shadowRoot!.querySelector('.panel-error')?.textContent ?? '', banner: app.querySelector('.alert')?.textContent ?? '' };
  });
  expect(shown.panel).toContain('the number of test images must be a whole number from 1 to 10000, not 0');
  expect(shown.banner).toBe('');
  await page.click(inApp('likelihood-view >>> .panel-error button'));
  expect(await page.evaluate(() => (window as any).ddpmDemo.errors.likelihood)).toBeNull();
});

test('Reset asks before it discards the run', async () => {
  await page.click(inApp('train-panel >>> button[name=reset]'));
  const confirm = await page.$eval(inApp('train-panel'), (e) => e.shadowRoot!.querySelector('.confirm')?.textContent ?? '');
  expect(confirm).toContain('Discard the run at step 2');
  await page.click(inApp('train-panel >>> button[name=reset-cancel]'));
  expect(await page.evaluate(() => (window as any).ddpmDemo.training.phase)).toBe('finished');
  await page.click(inApp('train-panel >>> button[name=reset]'));
  await page.click(inApp('train-panel >>> button[name=reset-confirm]'));
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'none', { polling: 100 });
});

test('narrowing the window from desktop width to 360 px, with drawn charts, scrolls nothing sideways', async () => {
  await page.evaluate(async () => {
    const demo = (window as any).ddpmDemo;
    await demo.startTraining({ preset: 'fashion-16', batchSize: 4, lr: 0.002, warmupSteps: 50, emaDecay: 0.999, seed: 0, targetSteps: 3 });
  });
  await waitInPage(page, () => (window as any).ddpmDemo.training.phase === 'finished', { polling: 250 });
  await page.setViewport({ width: 1360, height: 1000 });
  await new Promise((r) => setTimeout(r, 300));
  await page.setViewport({ width: 360, height: 800 });
  await new Promise((r) => setTimeout(r, 800));
  const overflow = await sidewaysOverflow(page);
  expect(overflow.wide).toEqual([]);
  expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.width);
});
