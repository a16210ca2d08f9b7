// Training improves sample quality, measured by the project's own metric: a CI-sized run of the
// main command's recipe on a small model lowers the normalised Fréchet distance of its EMA
// samples by a stated factor. (The documented runs, docs/quality-runs.md, go much further.)

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { inPage } from '../setup/page.ts';

const CLASSIFIER = new URL('../../models/fashion-mnist-classifier.safetensors', import.meta.url);

/** Normalised FD after TRAIN_STEPS must be at most this fraction of the untrained model's. */
const REQUIRED_FRACTION = 0.85;
const TRAIN_STEPS = 150;

test(`${TRAIN_STEPS} training steps cut the normalised FD of a small model's samples to ≤ ${REQUIRED_FRACTION} of its start`, { timeout: 900_000 }, async () => {
  const classifier = readFileSync(CLASSIFIER).toString('base64');
  const r = await inPage(
    async ({ b64, steps }: { b64: string; steps: number }) => {
      const h = (window as any).ddpmHarness;
      const app = await h.importModule('/src/app/index.ts');
      const raw = atob(b64);
      const bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      const session = new app.TrainingSession();
      await session.startEngine({ reuse: true });
      const quality = new app.QualityService(session);
      await quality.useClassifier(bytes);
      const base = '/@fs/usr/share/datasets/fashion-mnist/';
      await session.loadDataset({ source: 'url', url: base, split: 'train', limit: 4096 });
      const data = {
        train: { source: 'url', url: base, split: 'train', limit: 1000 },
        test: { source: 'url', url: base, split: 'test', limit: 64 },
      };
      await session.startTraining(app.quickRunConfig({ batchSize: 16, seed: 3, optimizer: { decaySteps: steps } }));
      const request = { sampler: 'ddim', n: 64, steps: 10, eta: 0, seed: 11 };
      const before = await quality.measure(request, data);
      const records = await session.train(steps);
      const after = await quality.measure(request, data);
      await session.reset();
      const losses = records.map((x: { loss: number }) => x.loss);
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      return {
        before: before.normalised,
        after: after.normalised,
        firstLoss: mean(losses.slice(0, 10)),
        lastLoss: mean(losses.slice(-10)),
        floor: after.fdReal,
        ceiling: after.fdNoise,
      };
    },
    { b64: classifier, steps: TRAIN_STEPS },
  );
  console.log(`normalised FD ${r.before.toFixed(3)} → ${r.after.toFixed(3)}; loss ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)}`);
  expect(r.floor).toBeLessThan(r.ceiling);
  expect(r.lastLoss).toBeLessThan(r.firstLoss);
  expect(r.after).toBeLessThanOrEqual(REQUIRED_FRACTION * r.before);
});
