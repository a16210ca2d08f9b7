// Training on real data: the loss falls, a resumed run continues exactly, and bad checkpoints
// are refused with the reason.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, expect, test } from 'vitest';
import { preset } from '../../src/model/config.ts';
import { imageSetFromIdx, parseIdx } from '../../src/model/data/idx.ts';
import { prepareImages } from '../../src/model/data/loader.ts';
import { inPage } from '../setup/page.ts';

const DATA = '/usr/share/datasets/fashion-mnist';
const SUBSET = 256;
let images: number[] = [];

beforeAll(() => {
  const read = (f: string) => gunzipSync(readFileSync(`${DATA}/${f}`));
  const set = imageSetFromIdx(
    parseIdx(read('t10k-images-idx3-ubyte.gz'), 'images', 3),
    parseIdx(read('t10k-labels-idx1-ubyte.gz'), 'labels', 1),
    'fashion-mnist test',
  );
  const subset = { ...set, count: SUBSET, images: set.images.subarray(0, SUBSET * 28 * 28) };
  images = Array.from(prepareImages(subset, 16));
});

const TINY = {
  model: preset('tiny-fashion'),
  optimizer: { lr: 2e-3, warmupSteps: 10 },
  batchSize: 8,
  emaDecay: 0.99,
  seed: 11,
};

test('a tiny U-Net on 256 Fashion-MNIST images: the training loss falls by at least 3x in 40 steps', async () => {
  const r = await inPage(
    async ({ config, images, count }) => {
      const load = (window as any).ddpmHarness.importModule;
      const { Trainer, makeTrainConfig } = await load('/src/model/train/trainer.ts');
      const trainer = new Trainer(makeTrainConfig(config), { images: Float32Array.from(images), count, shape: [1, 16, 16] });
      const records = await trainer.train(40);
      trainer.dispose();
      return records.map((r: any) => r.loss) as number[];
    },
    { config: TINY, images, count: SUBSET },
  );
  const first = r.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
  const last = r.slice(-5).reduce((a, b) => a + b, 0) / 5;
  console.log(`loss: first 5 steps ${first.toFixed(4)}, last 5 steps ${last.toFixed(4)}`);
  expect(last).toBeLessThan(first / 3);
});

test('N steps straight equal N/2 + checkpoint + restore + N/2 (parameters, EMA and Adam moments bit for bit)', async () => {
  const r = await inPage(
    async ({ config, images, count }) => {
      const load = (window as any).ddpmHarness.importModule;
      const { Trainer, makeTrainConfig } = await load('/src/model/train/trainer.ts');
      const { captureCheckpoint, trainerFromCheckpoint } = await load('/src/model/train/checkpoint.ts');
      const data = { images: Float32Array.from(images), count, shape: [1, 16, 16] };
      const cfg = makeTrainConfig({ ...config, batchSize: 4, diffusion: { variance: 'learned', schedule: { type: 'cosine', T: 100 } }, model: { ...config.model, learnedVariance: true, dropout: 0.1 }, timestepSampling: 'importance', horizontalFlip: true });
      const straight = new Trainer(cfg, data);
      await straight.train(4);
      const a = await captureCheckpoint(straight);
      straight.dispose();
      const first = new Trainer(cfg, data);
      await first.train(2);
      const bytes = await captureCheckpoint(first);
      first.dispose();
      const resumed = trainerFromCheckpoint(bytes, data);
      await resumed.train(2);
      const b = await captureCheckpoint(resumed);
      resumed.dispose();
      let differing = 0;
      for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) differing++;
      return { bytes: a.length, differing };
    },
    { config: TINY, images, count: SUBSET },
  );
  expect(r.bytes).toBeGreaterThan(100_000);
  expect(r.differing).toBe(0);
});

test('truncated, corrupted and mismatched checkpoints are refused with the reason', async () => {
  const r = await inPage(
    async ({ config, images, count }) => {
      const load = (window as any).ddpmHarness.importModule;
      const { Trainer, makeTrainConfig } = await load('/src/model/train/trainer.ts');
      const { captureCheckpoint, parseCheckpoint, restoreCheckpoint } = await load('/src/model/train/checkpoint.ts');
      const data = { images: Float32Array.from(images), count, shape: [1, 16, 16] };
      const trainer = new Trainer(makeTrainConfig(config), data);
      const bytes: Uint8Array = await captureCheckpoint(trainer);
      const message = (f: () => unknown) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      };
      const flipped = bytes.slice();
      flipped[20] = 0xff;
      const wider = new Trainer(makeTrainConfig({ ...config, model: { ...config.model, baseChannels: 32 } }), data);
      const before = Array.from(await wider.model.parameters()[0].value.read()).slice(0, 4);
      const mismatch = message(() => restoreCheckpoint(wider, parseCheckpoint(bytes)));
      const after = Array.from(await wider.model.parameters()[0].value.read()).slice(0, 4);
      const out = {
        truncated: message(() => parseCheckpoint(bytes.slice(0, bytes.length - 100))),
        corrupt: message(() => parseCheckpoint(flipped)),
        notCheckpoint: message(() => parseCheckpoint(new Uint8Array(4))),
        mismatch,
        untouched: JSON.stringify(before) === JSON.stringify(after),
      };
      trainer.dispose();
      wider.dispose();
      return out;
    },
    { config: TINY, images, count: SUBSET },
  );
  expect(r.truncated).toMatch(/^checkpoint: safetensors: tensor '.*' \[\d+, \d+\] ends past the file's \d+ data bytes: truncated/);
  expect(r.corrupt).toMatch(/^checkpoint: safetensors: header is not valid UTF-8 JSON/);
  expect(r.notCheckpoint).toMatch(/^checkpoint: safetensors: file is 4 bytes/);
  expect(r.mismatch).toMatch(/^checkpoint: does not match the model: 'conv_in.weight' is \[16,1,3,3\], the model needs \[32,1,3,3\]/);
  expect(r.untouched).toBe(true);
});

test('a batch over the storage-binding limit trains as micro-batches: the same losses and updates as the whole batch', async () => {
  const r = await inPage(
    async ({ config, images, count }) => {
      const h = (window as any).ddpmHarness;
      const { Trainer, makeTrainConfig } = await h.importModule('/src/model/train/trainer.ts');
      const { runtime } = await h.importModule('/src/engine/index.ts');
      const { UNet } = await h.importModule('/src/model/unet.ts');
      const data = { images: Float32Array.from(images), count, shape: [1, 16, 16] };
      // Learned variance and importance sampling: per-sample terms and weights are split too.
      const cfg = makeTrainConfig({
        ...config,
        diffusion: { variance: 'learned', schedule: { type: 'cosine', T: 100 } },
        model: { ...config.model, learnedVariance: true },
        timestepSampling: 'importance',
      });
      const perSampleBytes = 4 * new UNet(cfg.model).plan(1).largestElements;
      const run = async (limit: number | null) => {
        const trainer = new Trainer(cfg, data);
        const losses: number[] = [];
        let parts = 0;
        for (let i = 0; i < 3; i++) {
          const step = () => {
            parts = Math.ceil(cfg.batchSize / trainer.microBatchSize());
            return trainer.trainStep();
          };
          const s = limit === null ? step() : runtime().withTuning({ maxBindingBytes: limit }, step);
          losses.push((await s.loss.read())[0]);
          trainer.timesteps.update(s.t, await s.perSample.read());
          s.loss.dispose();
          s.mse.dispose();
          s.perSample.dispose();
        }
        const weights = Array.from(await trainer.model.parameters()[3].value.read() as Float32Array);
        trainer.dispose();
        return { losses, weights, parts };
      };
      const initial = new Trainer(cfg, data);
      const start = Array.from(await initial.model.parameters()[3].value.read() as Float32Array);
      initial.dispose();
      const whole = await run(null);
      const split = await run(3 * perSampleBytes);
      let tooSmall = 'no error';
      const t = new Trainer(cfg, data);
      try {
        runtime().withTuning({ maxBindingBytes: perSampleBytes - 4 }, () => t.trainStep());
      } catch (e) {
        tooSmall = (e as Error).message;
      }
      t.dispose();
      return { start, whole, split, tooSmall };
    },
    { config: TINY, images, count: SUBSET },
  );
  expect(r.whole.parts).toBe(1);
  expect(r.split.parts).toBe(3); // 8 samples at most 3 at a time: 3 + 3 + 2
  for (let i = 0; i < 3; i++) expect(r.split.losses[i]).toBeCloseTo(r.whole.losses[i]!, 4);
  let moved = 0;
  let differ = 0;
  r.whole.weights.forEach((w, i) => {
    moved = Math.max(moved, Math.abs(w - r.start[i]!));
    differ = Math.max(differ, Math.abs(w - r.split.weights[i]!));
  });
  expect(moved).toBeGreaterThan(1e-3);
  expect(differ).toBeLessThan(1e-3 * moved);
  expect(r.tooSmall).toMatch(/one sample's largest tensor \([\d.]+ MiB\) exceeds this device's storage-binding limit/);
});
