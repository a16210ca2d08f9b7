// timestepEmbedding: the check cases, diffusers' get_timestep_embedding values from PyTorch 1.13
// (tests/fixtures/torch-reference/ops.safetensors: temb_unet, temb_fn_defaults, temb_odd)
// and the argument errors.

import { describe, expect, test } from 'vitest';
import { timestepEmbeddingChecks } from '../../src/engine/checks/timestep-embedding.ts';
import { refArray } from '../../src/engine/reference/ndarray.ts';
import { refTimestepEmbedding, refTimestepEmbeddingVjp } from '../../src/engine/reference/timestep-embedding.ts';
import { fixtureTensor as get, type Arr } from '../setup/fixtures.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(timestepEmbeddingChecks);


const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/**
 * Float32 sin/cos of arguments up to 999 rad are good to ~1e-5 (the fixture's README): the GPU
 * embedding is compared at 3e-5 and dL/dt at 1e-4. The float64 reference uses exact frequencies
 * and an unrounded t·f, which differ from torch's float32 ones by up to half an ulp of 999
 * (3e-5): 5e-5 for the embedding, 1e-4 for dL/dt (a sum of 16 such terms).
 */
const TOL = { gpu: 3e-5, gpuGrad: 1e-4, ref: 5e-5, refGrad: 1e-4 };

const FIXTURE_CASES = [
  { name: 'temb_unet', dim: 32, options: { flipSinToCos: true, downscaleFreqShift: 0, maxPeriod: 10000 } },
  { name: 'temb_fn_defaults', dim: 32, options: { flipSinToCos: false, downscaleFreqShift: 1, maxPeriod: 10000 } },
  { name: 'temb_odd', dim: 33, options: { flipSinToCos: true, downscaleFreqShift: 0, maxPeriod: 10000 } },
];

describe('timestepEmbedding vs diffusers get_timestep_embedding (t = 0, 1, 10, 12.5, 250, 500, 999)', () => {
  for (const { name, dim, options } of FIXTURE_CASES) {
    const t = get(`${name}.timesteps`);
    const g = get(`${name}.grad_out`);
    const want = get(`${name}.out`).data;
    const wantGrad = get(`${name}.grad.timesteps`).data;

    test(`${name}: float64 reference`, () => {
      const rt = refArray(t.shape, t.data);
      expect(maxAbsDiff(refTimestepEmbedding(rt, dim, options).data, want)).toBeLessThan(TOL.ref);
      const dt = refTimestepEmbeddingVjp(rt, dim, options, refArray(g.shape, g.data)).data;
      expect(maxAbsDiff(dt, wantGrad)).toBeLessThan(TOL.refGrad);
    });

    test(`${name}: GPU forward and dL/dt`, async () => {
      const r = await inPage(
        async ({ t, g, dim, options }: { t: Arr; g: Arr; dim: number; options: object }) => {
          const d = (window as any).ddpm;
          const tt = d.tensor(t.data, t.shape, { requiresGrad: true });
          const out = d.scope(() => {
            const y = d.timestepEmbedding(tt, dim, options);
            d.backward(y, d.tensor(g.data, g.shape));
            return y;
          });
          const res = { out: Array.from(await out.read()) as number[], dt: Array.from(await tt.grad.read()) as number[] };
          [out, tt].forEach((x) => x.dispose());
          return res;
        },
        { t, g, dim, options },
      );
      expect(maxAbsDiff(r.out, want)).toBeLessThan(TOL.gpu);
      expect(maxAbsDiff(r.dt, wantGrad)).toBeLessThan(TOL.gpuGrad);
    });
  }
});

test('timestepEmbedding: argument errors', async () => {
  const messages = await inPage(async () => {
    const d = (window as any).ddpm;
    const errorOf = (shape: number[], dim: number, options = {}) =>
      d.scope(() => {
        try {
          d.timestepEmbedding(d.zeros(shape), dim, options);
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      });
    return [errorOf([2, 1], 32), errorOf([2], 0), errorOf([2], 2, { downscaleFreqShift: 1 })];
  });
  expect(messages[0]).toBe('timestepEmbedding: t [2,1] must be a vector of timesteps [batch]');
  expect(messages[1]).toBe('timestepEmbedding: dim must be a positive integer, got 0');
  expect(messages[2]).toMatch(/half − downscaleFreqShift \(1\) is 0/);
});

test('the kernel evaluates sin and cos to 5e-7 for arguments up to 1e4 rad', async () => {
  // dim 2 with shift 0 has the single frequency 1, so the embedding is [sin t, cos t].
  const t = Array.from({ length: 4001 }, (_, i) => Math.fround(i * 2.5 + (i % 7) * 0.013));
  const emb = await inPage(
    async ({ t }: { t: number[] }) => {
      const d = (window as any).ddpm;
      const y = d.scope(() => d.timestepEmbedding(d.tensor(t, [t.length]), 2, { downscaleFreqShift: 0 }));
      const values = Array.from(await y.read()) as number[];
      y.dispose();
      return values;
    },
    { t },
  );
  const want = t.flatMap((x) => [Math.sin(x), Math.cos(x)]);
  expect(maxAbsDiff(emb, want)).toBeLessThan(5e-7);
});
