// The forward process and the loss terms on the GPU: q_sample against diffusers' add_noise and
// its statistics; the variational-bound terms and the hybrid loss against float64 references.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { relError } from '../../src/engine/checks/runner.ts';
import { Rng } from '../../src/engine/random.ts';
import { readSafetensors } from '../../src/engine/safetensors.ts';
import { discretizedGaussianLogLikelihoodPoint, normalKlPoint } from '../../src/engine/reference/vlb.ts';
import { makeSchedule } from '../../src/model/diffusion/schedule.ts';
import { inPage } from '../setup/page.ts';

const fixture = readSafetensors(
  readFileSync(new URL('../fixtures/torch-reference/ddpm_step.safetensors', import.meta.url)),
).tensors;
const values = (name: string) => Array.from(fixture.get(name)!.data as Float32Array | BigInt64Array, Number);

describe('diffusion on the GPU', () => {
  test("q_sample equals diffusers' add_noise (timesteps 0, 10, 500, 999)", async () => {
    const out = await inPage(
      async ({ x0, eps, t }) => {
        const d = (window as any).ddpm;
        const { GaussianDiffusion } = await (window as any).ddpmHarness.importModule('/src/model/diffusion/gaussian-diffusion.ts');
        const diffusion = new GaussianDiffusion();
        const r = d.scope(() => diffusion.qSample(d.tensor(x0, [4, 1, 8, 8]), diffusion.timesteps(t), d.tensor(eps, [4, 1, 8, 8])));
        const v = Array.from(await r.read()) as number[];
        r.dispose();
        diffusion.dispose();
        return v;
      },
      { x0: values('add_noise.original_samples'), eps: values('add_noise.noise'), t: values('add_noise.timesteps') },
    );
    expect(relError(out, values('add_noise.noisy_samples'))).toBeLessThan(1e-5);
  });

  test('q_sample statistics: mean sqrt(ᾱ_t)·x0 and variance 1 − ᾱ_t over many noise draws', async () => {
    const ts = [0, 100, 500, 999];
    const stats = await inPage(async (timesteps) => {
      const d = (window as any).ddpm;
      const { GaussianDiffusion } = await (window as any).ddpmHarness.importModule('/src/model/diffusion/gaussian-diffusion.ts');
      const diffusion = new GaussianDiffusion();
      const n = 20000;
      const result: { mean: number; variance: number }[] = [];
      for (const t of timesteps) {
        const r = d.scope(() => {
          const x0 = d.full([n, 1, 1, 1], 0.5);
          const eps = d.randomNormal([n, 1, 1, 1], { seed: 100 + t });
          const xt = diffusion.qSample(x0, diffusion.timesteps(new Array(n).fill(t)), eps);
          const mean = d.mean(xt);
          return { mean, sq: d.mean(d.square(d.sub(xt, mean))) };
        });
        result.push({ mean: await r.mean.item(), variance: await r.sq.item() });
        r.mean.dispose();
        r.sq.dispose();
      }
      diffusion.dispose();
      return result;
    }, ts);
    const s = makeSchedule({ type: 'linear', T: 1000 });
    ts.forEach((t, i) => {
      const sd = Math.sqrt(1 - s.alphasCumprod[t]!);
      expect(Math.abs(stats[i]!.mean - 0.5 * s.sqrtAlphasCumprod[t]!)).toBeLessThan(4 * sd / Math.sqrt(20000) + 1e-6);
      expect(Math.abs(stats[i]!.variance / (1 - s.alphasCumprod[t]!) - 1)).toBeLessThan(0.05);
    });
  });

  test('variational-bound terms (KL for t > 0, decoder NLL at t = 0) match a float64 reference', async () => {
    const rng = new Rng(5);
    const N = 3;
    const D = 2 * 4 * 4;
    const ts = [0, 7, 600];
    const x0 = Array.from({ length: N * D }, () => Math.round((rng.uniform() * 2 - 1) * 127.5) / 127.5);
    const eps = Array.from(rng.normals(N * D));
    const mu = Array.from(rng.normals(N * D, 0.3));
    const lv = Array.from(rng.uniforms(N * D, -6, -3));
    const gpu = await inPage(
      async ({ x0, eps, mu, lv, ts, N }) => {
        const d = (window as any).ddpm;
        const { GaussianDiffusion } = await (window as any).ddpmHarness.importModule('/src/model/diffusion/gaussian-diffusion.ts');
        const diffusion = new GaussianDiffusion();
        const shape = [N, 2, 4, 4];
        const r = d.scope(() => {
          const t = diffusion.timesteps(ts);
          const x = d.tensor(x0, shape);
          const xt = diffusion.qSample(x, t, d.tensor(eps, shape));
          return { terms: diffusion.vlbTerms(x, xt, t, d.tensor(mu, shape), d.tensor(lv, shape)), xt };
        });
        const out = { terms: Array.from(await r.terms.read()) as number[], xt: Array.from(await r.xt.read()) as number[] };
        r.terms.dispose();
        r.xt.dispose();
        diffusion.dispose();
        return out;
      },
      { x0, eps, mu, lv, ts, N },
    );
    const s = makeSchedule({ type: 'linear', T: 1000 });
    const expected = ts.map((t, n) => {
      let sum = 0;
      for (let i = n * D; i < (n + 1) * D; i++) {
        const xt = gpu.xt[i]!;
        const trueMean = s.posteriorMeanCoef1[t]! * x0[i]! + s.posteriorMeanCoef2[t]! * xt;
        sum +=
          t === 0
            ? -discretizedGaussianLogLikelihoodPoint(x0[i]!, mu[i]!, 0.5 * lv[i]!)
            : normalKlPoint(trueMean, s.posteriorLogVarianceClipped[t]!, mu[i]!, lv[i]!);
      }
      return sum / D / Math.log(2);
    });
    expect(relError(gpu.terms, expected)).toBeLessThan(1e-5);
  });
});
