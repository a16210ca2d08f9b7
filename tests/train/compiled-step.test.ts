// The training step is captured at its first call and replayed after (src/model/train/trainer.ts):
// a replayed run and an op-by-op run from the same seed are the same run, bit for bit (weights,
// EMA, Adam's moments, losses), with dropout, importance sampling, the learned variance's hybrid
// loss, min-SNR weights and micro-batches; a replayed step encodes no fewer dispatches' work
// but runs none of the ops' JavaScript.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, expect, test } from 'vitest';
import { preset } from '../../src/model/config.ts';
import { imageSetFromIdx, parseIdx } from '../../src/model/data/idx.ts';
import { prepareImages } from '../../src/model/data/loader.ts';
import { inPage } from '../setup/page.ts';

const DATA = '/usr/share/datasets/fashion-mnist';
const SUBSET = 64;
let images: number[] = [];

beforeAll(() => {
  const read = (f: string) => gunzipSync(readFileSync(`${DATA}/${f}`));
  const set = imageSetFromIdx(parseIdx(read('t10k-images-idx3-ubyte.gz'), 'images', 3), parseIdx(read('t10k-labels-idx1-ubyte.gz'), 'labels', 1), 'fashion-mnist test');
  images = Array.from(prepareImages({ ...set, count: SUBSET, images: set.images.subarray(0, SUBSET * 28 * 28) }, 16));
});

const TINY = { model: preset('tiny-fashion'), optimizer: { lr: 2e-3, warmupSteps: 3 }, batchSize: 4, emaDecay: 0.9, seed: 5 };

test('replayed and op-by-op training are the same run bit for bit (dropout, importance, learned variance, min-SNR, micro-batches)', async () => {
  const r = await inPage(
    async ({ config, images, count }) => {
      const h = (window as any).ddpmHarness;
      const { Trainer, makeTrainConfig } = await h.importModule('/src/model/train/trainer.ts');
      const { captureCheckpoint } = await h.importModule('/src/model/train/checkpoint.ts');
      const { runtime } = (window as any).ddpm;
      const { UNet } = await h.importModule('/src/model/unet.ts');
      const data = { images: Float32Array.from(images), count, shape: [1, 16, 16] };
      const configs = {
        learned: makeTrainConfig({ ...config, diffusion: { variance: 'learned', schedule: { type: 'cosine', T: 100 } }, model: { ...config.model, learnedVariance: true, dropout: 0.1 }, timestepSampling: 'importance' }),
        minSnr: makeTrainConfig({ ...config, diffusion: { minSnrGamma: 5, objective: 'v', schedule: { type: 'linear', T: 100 } }, model: { ...config.model, dropout: 0.1 } }),
      };
      const out: Record<string, { differing: number; losses: number[][]; dispatches: number[]; memory: { captured: number; planned: number } }> = {};
      for (const [name, cfg] of Object.entries(configs) as [string, any][]) {
        const run = async (execution: 'replay' | 'eager', splitLimit: number | null) => {
          const trainer = new Trainer(cfg, data);
          trainer.execution = execution;
          const losses: number[] = [];
          const dispatches: number[] = [];
          let memory = null;
          for (let i = 0; i < 4; i++) {
            if (i === 2) memory = trainer.compiledStepMemory;
            const before = runtime().dispatcher.counters.dispatches;
            const step = () => trainer.trainStep();
            const s = splitLimit === null || i < 2 ? step() : runtime().withTuning({ maxBindingBytes: splitLimit }, step);
            dispatches.push(runtime().dispatcher.counters.dispatches - before);
            losses.push((await s.loss.read())[0], (await s.mse.read())[0]);
            trainer.timesteps.update(s.t, await s.perSample.read());
            [s.loss, s.mse, s.perSample].forEach((t: any) => t.dispose());
          }
          const bytes = await captureCheckpoint(trainer);
          trainer.dispose();
          return { bytes, losses, dispatches, memory };
        };
        // The last two steps in micro-batches of 3 (4 = 3 + 1): a new capture for the new shapes.
        const limit = 3 * 4 * new UNet(cfg.model).plan(1).largestElements;
        const replayed = await run('replay', limit);
        const eager = await run('eager', limit);
        let differing = 0;
        for (let i = 0; i < Math.max(replayed.bytes.length, eager.bytes.length); i++) if (replayed.bytes[i] !== eager.bytes[i]) differing++;
        out[name] = { differing, losses: [replayed.losses, eager.losses], dispatches: [...replayed.dispatches, ...eager.dispatches], memory: replayed.memory };
      }
      return out;
    },
    { config: TINY, images, count: SUBSET },
  );
  for (const [name, o] of Object.entries(r)) {
    expect(o.differing, name).toBe(0);
    expect(o.losses[0], name).toEqual(o.losses[1]);
    expect(o.losses[0]!.every(Number.isFinite), name).toBe(true);
    // Steps 2 and 4 replay what steps 1 and 3 captured: the work of op by op, less what needs no
    // replay (constants filled once: the ones of the per-sample table lookups), which a capture
    // runs once more on its planned buffers.
    const [r1, r2, r3, r4, e1, e2, e3, e4] = o.dispatches;
    expect(r1! - e1!, name).toBe(e1! - r2!);
    expect(r3! - e3!, name).toBe(e3! - r4!);
    expect(r2! <= e2! && r2! > 0.95 * e2!, name).toBe(true);
    expect(r4! <= e4! && r4! > 0.95 * e4!, name).toBe(true);
    expect(e3! > e2!, name).toBe(true); // two parts
    // The static memory plan: the intermediates share buffers by lifetime, in far less than the capture's buffers.
    expect(o.memory.planned, name).toBeGreaterThan(0);
    expect(o.memory.planned, name).toBeLessThan(0.7 * o.memory.captured);
  }
});
