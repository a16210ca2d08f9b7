// The application service both front ends use, in the harness page: one dataset (limit, channels
// and labels handled once), a trainer, checkpoints that resume bit for bit, reset to the empty
// state, sampling from the trainer or a checkpoint, the bound and the noising chain.

import { expect, test } from 'vitest';
import { inPage } from '../setup/page.ts';

test('a session trains, saves, resets, resumes exactly, samples, evaluates and noises', async () => {
  const r = await inPage(async () => {
    const app = await (window as any).ddpmHarness.importModule('/src/app/index.ts');
    const { preset } = await (window as any).ddpmHarness.importModule('/src/model/config.ts');
    const message = async (f: () => Promise<unknown>) => {
      try {
        await f();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const session = new app.TrainingSession();
    const engine = (await session.startEngine({ reuse: true })).kind;
    const fashion = { source: 'url', url: '/@fs/usr/share/datasets/fashion-mnist/', split: 'test', limit: 32 };
    await session.loadDataset(fashion);
    const data = await session.prepared(16, 1);
    const wrongChannels = await message(() => session.prepared(16, 3));
    const config = { model: preset('tiny-fashion'), optimizer: { lr: 2e-3, warmupSteps: 10 }, batchSize: 4, emaDecay: 0.9, seed: 5 };

    const started = await session.startTraining(config);
    const records = await session.train(2);
    const saved = await session.checkpoint();

    await session.reset();
    const afterReset = { info: session.info(), step: session.step, hasTrainer: session.hasTrainer, hasDataset: session.hasDataset };
    const trainWithout = await message(() => session.train(1));

    const resumed = await session.resume(saved.bytes);
    const again = await session.checkpoint();
    let differing = 0;
    for (let i = 0; i < Math.max(saved.bytes.length, again.bytes.length); i++) if (saved.bytes[i] !== again.bytes[i]) differing++;

    const request = { sampler: 'ddim', n: 2, steps: 2, eta: 0, seed: 3, every: 1 };
    const frames: number[] = [];
    const fromTrainer = await session.sample(request, { onFrame: (f: { t: number }) => frames.push(f.t) });
    const fromCheckpoint = await session.sample(request, {}, saved.bytes);
    const raw = await session.sample({ ...request, weights: 'raw' });
    const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

    const bound = await session.evaluate({ ...fashion, limit: 2 }, { batch: 2, terms: 2, seed: 0 }, saved.bytes);
    const chain = await session.noisingChain({ index: 3, schedule: { type: 'linear', T: 1000 }, count: 4, seed: 1, size: 16, channels: 1 });
    const x0 = data.images.subarray(3 * 256, 4 * 256);
    const t0Error = Math.max(...Array.from(chain.images.data.subarray(0, 256), (v: number, i: number) => Math.abs(v - x0[i]!)));

    await session.reset();
    return {
      engine,
      count: data.count,
      labels: data.labels?.length,
      wrongChannels,
      started: { step: started.step, images: started.images, summary: started.summary },
      records: records.length,
      savedName: saved.name,
      afterReset,
      trainWithout,
      resumedStep: resumed.step,
      differing,
      frames,
      sampleShape: [fromTrainer.images.n, fromTrainer.images.channels, fromTrainer.images.size, fromTrainer.fromStep],
      checkpointMatchesTrainer: same(fromTrainer.images.data, fromCheckpoint.images.data),
      rawDiffers: !same(fromTrainer.images.data, raw.images.data),
      bound: { bpd: bound.bpd, images: bound.images },
      chain: { timesteps: chain.timesteps, label: chain.label, n: chain.images.n },
      t0Error,
    };
  });
  expect(r.engine).toBe('ready');
  expect(r.count).toBe(32);
  expect(r.labels).toBe(32);
  expect(r.wrongChannels).toMatch(/Fashion-MNIST test has 1 channel but this model takes 3/);
  expect(r.started).toEqual({
    step: 0,
    images: 32,
    summary: { preset: 'tiny-fashion', schedule: { type: 'linear', T: 1000 }, batchSize: 4, lr: 2e-3, warmupSteps: 10, emaDecay: 0.9, seed: 5, imageSize: 16, channels: 1 },
  });
  expect(r.records).toBe(2);
  expect(r.savedName).toBe('ddpm-tiny-fashion-step2.safetensors');
  expect(r.afterReset).toEqual({ info: null, step: 0, hasTrainer: false, hasDataset: true });
  expect(r.trainWithout).toMatch(/there is no model to train yet/);
  expect(r.resumedStep).toBe(2);
  expect(r.differing).toBe(0);
  expect(r.frames).toEqual([500, 0]); // DDIM with 2 of 1000 steps
  expect(r.sampleShape).toEqual([2, 1, 16, 2]);
  expect(r.checkpointMatchesTrainer).toBe(true);
  expect(r.rawDiffers).toBe(true);
  expect(Number.isFinite(r.bound.bpd)).toBe(true);
  expect(r.bound.images).toBe(2);
  expect(r.chain).toEqual({ timesteps: [0, 333, 666, 999], label: expect.stringMatching(/ \(#4 of 32\)$/), n: 4 });
  // x_0 = sqrt(ᾱ_0)·x0 + sqrt(1 − ᾱ_0)·ε with ᾱ_0 = 1 − 1e−4: within a few hundredths of the image.
  expect(r.t0Error).toBeLessThan(0.05);
});
