// Batches over the storage-binding limit run in parts: how a batch is cut, and sampling whose
// forward runs in parts draws the same images as one whole-batch forward. (Training in
// micro-batches: tests/train/trainer.test.ts.)

import { expect, test } from 'vitest';
import { microBatches } from '../../src/model/micro-batches.ts';
import { inPage } from '../setup/page.ts';

test('a batch is cut into consecutive parts of at most the given size, as even as possible', () => {
  expect(microBatches(8, 3)).toEqual([
    { start: 0, count: 3 },
    { start: 3, count: 3 },
    { start: 6, count: 2 },
  ]);
  expect(microBatches(5, 5)).toEqual([{ start: 0, count: 5 }]);
  expect(microBatches(5, 9)).toEqual([{ start: 0, count: 5 }]);
  expect(microBatches(7, 1).map((p) => p.count)).toEqual([1, 1, 1, 1, 1, 1, 1]);
});

test('sampling over the binding limit runs the U-Net in parts and draws the same images', async () => {
  const r = await inPage(async () => {
    const h = (window as any).ddpmHarness;
    const { UNet } = await h.importModule('/src/model/unet.ts');
    const { preset } = await h.importModule('/src/model/config.ts');
    const { GaussianDiffusion } = await h.importModule('/src/model/diffusion/gaussian-diffusion.ts');
    const { sample } = await h.importModule('/src/model/diffusion/sample.ts');
    const { largestPerSampleBytes } = await h.importModule('/src/model/micro-batches.ts');
    const { runtime, deviceBindingLimit } = await h.importModule('/src/engine/index.ts');
    const config = preset('fashion-16');
    const model = new UNet(config).build(3).eval();
    const diffusion = new GaussianDiffusion({});
    const perSample = largestPerSampleBytes(config);
    // A limit every weight fits in, and a batch that takes three parts under it.
    const limit = Math.max(...model.parameters().map((p: any) => 4 * p.value.size), 2 * perSample);
    const perPart = Math.floor(limit / perSample);
    const n = 2 * perPart + 1;
    const draw = async (limit: number) => {
      runtime().setTuning({ maxBindingBytes: limit });
      const before = runtime().dispatcher.counters.dispatches;
      try {
        const images = await sample(model, diffusion, { n, sampler: 'ddim', steps: 3, seed: 9 });
        return { images: [...images], dispatches: runtime().dispatcher.counters.dispatches - before };
      } finally {
        runtime().setTuning({ maxBindingBytes: deviceBindingLimit(runtime().report) });
      }
    };
    const whole = await draw(deviceBindingLimit(runtime().report));
    const parts = await draw(limit);
    let refusal = 'no error';
    try {
      await draw(perSample - 4);
    } catch (e) {
      refusal = (e as Error).message;
    }
    model.dispose();
    return { whole, parts, refusal, n, perPart };
  });
  // Three forwards per step instead of one.
  expect(r.perPart).toBeGreaterThan(1);
  expect(r.parts.images.length).toBe(r.whole.images.length);
  expect(r.parts.dispatches).toBeGreaterThan(2.5 * r.whole.dispatches);
  let worst = 0;
  r.whole.images.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - r.parts.images[i]!))));
  expect(worst).toBeLessThan(1e-5);
  expect(r.refusal).toMatch(/one sample's largest tensor \([\d.]+ MiB\) exceeds this device's storage-binding limit/);
});
