// Sampler steps: the float64 reference step against diffusers' DDPMScheduler/DDIMScheduler
// (fixture), and the fused GPU step against the float64 step fed the same noise.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { relError } from '../../src/engine/checks/runner.ts';
import { readSafetensors } from '../../src/engine/safetensors.ts';
import {
  ddimCoefficients,
  ddimTimesteps,
  ddpmCoefficients,
  referenceSamplerStep,
  type StepCoefficients,
} from '../../src/model/diffusion/sampler-step.ts';
import { makeSchedule } from '../../src/model/diffusion/schedule.ts';
import { inPage } from '../setup/page.ts';

const dir = new URL('../fixtures/torch-reference/', import.meta.url);
const tensors = readSafetensors(readFileSync(new URL('ddpm_step.safetensors', dir))).tensors;
const meta = JSON.parse(readFileSync(new URL('ddpm_step.json', dir), 'utf8'));
const get = (name: string) => Float64Array.from(tensors.get(name)!.data as Float32Array);
const schedule = makeSchedule({ type: 'linear', T: 1000 });

interface Case {
  name: string;
  inputs: string;
  outputs: string;
  /** From our float64 schedule. */
  k: StepCoefficients;
  /** From the float32 scalars diffusers used in this very step. */
  kDiffusers: StepCoefficients;
  clip: boolean;
  t: number;
}

const cases: Case[] = (meta.cases as any[]).map((c) => {
  const clip = c.clip_sample as boolean;
  const ddpm = c.sched === 'ddpm';
  const k = ddpm
    ? ddpmCoefficients(schedule, c.timestep, c.variance_type === 'fixed_large' ? 'fixed-large' : 'fixed-small')
    : ddimCoefficients(schedule, c.timestep, c.prev_timestep, c.eta);
  const kDiffusers: StepCoefficients = {
    ...k,
    sqrtAlphaBar: Math.sqrt(c.alpha_prod_t),
    sqrtOneMinusAlphaBar: Math.sqrt(1 - c.alpha_prod_t),
    ...(ddpm
      ? { a: c.coef1, b: c.coef2, sigma: Math.sqrt(c.variance) }
      : {
          a: Math.sqrt(c.alpha_prod_t_prev),
          c: Math.sqrt(1 - c.alpha_prod_t_prev - c.std_dev_t ** 2),
          sigma: c.std_dev_t,
        }),
  };
  return { name: `${c.sched} ${c.variant} t=${c.timestep}`, inputs: c.inputs, outputs: c.outputs, k, kDiffusers, clip, t: c.timestep };
});

/** Max |a−b| / (|b| + atol) over elements. */
function maxScaledError(a: ArrayLike<number>, b: ArrayLike<number>, atol: number): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (Math.abs(b[i]!) + atol));
  return worst;
}

describe('sampler steps', () => {
  test('DDIM timesteps for 50 of 1000 steps are diffusers\' 980, 960, …, 0', () => {
    expect(ddimTimesteps(1000, 50)).toEqual(meta.ddim.timesteps_after_set_timesteps_50);
  });

  for (const c of cases) {
    test(`${c.name}: float64 step matches diffusers`, () => {
      const args = [get(`${c.inputs}.sample`), get(`${c.inputs}.model_output`), get(`${c.inputs}.noise`)] as const;
      // With diffusers' own float32 coefficients the step formula agrees to float32 rounding
      // (amplified by 1/sqrt(ᾱ_t) ≈ 130 near t = T) …
      const exact = referenceSamplerStep(...args, c.kDiffusers, 'eps', c.clip);
      expect(maxScaledError(exact.x0, get(`${c.outputs}.pred_original_sample`), 1e-2)).toBeLessThan(1e-4);
      expect(maxScaledError(exact.xPrev, get(`${c.outputs}.prev_sample`), 1e-2)).toBeLessThan(1e-4);
      // … and with our float64 schedule to the float32 cancellation of diffusers' coefficients
      // at small t (up to ~1e-3 relative there, see the fixture README).
      const ours = referenceSamplerStep(...args, c.k, 'eps', c.clip);
      expect(maxScaledError(ours.x0, get(`${c.outputs}.pred_original_sample`), 1e-2)).toBeLessThan(2e-3);
      expect(maxScaledError(ours.xPrev, get(`${c.outputs}.prev_sample`), 1e-2)).toBeLessThan(2e-3);
    });
  }

  test('the fused GPU step matches the float64 step fed the same noise (every fixture case, eps, x0 and v objectives)', async () => {
    const payload = cases.map((c) => ({
      name: c.name,
      k: c.k,
      clip: c.clip,
      xt: Array.from(get(`${c.inputs}.sample`)),
      out: Array.from(get(`${c.inputs}.model_output`)),
      noise: Array.from(get(`${c.inputs}.noise`)),
    }));
    const results = await inPage(async (all) => {
      const d = (window as any).ddpm;
      const { samplerStep } = await (window as any).ddpmHarness.importModule('/src/model/diffusion/sampler-step.ts');
      const res: Record<string, { xPrev: number[]; x0: number[] }> = {};
      for (const c of all) {
        for (const objective of ['eps', 'x0', 'v']) {
          const r = d.scope(() => {
            const xt = d.tensor(c.xt, [2, 3, 8, 8]);
            const out = d.tensor(c.out, [2, 3, 8, 8]);
            const noise = d.tensor(c.noise, [2, 3, 8, 8]);
            return samplerStep(xt, out, c.k, { objective, clipX0: c.clip, learnedVariance: false, noise });
          });
          res[`${c.name}/${objective}`] = { xPrev: Array.from(await r.xPrev.read()), x0: Array.from(await r.x0.read()) };
          r.xPrev.dispose();
          r.x0.dispose();
        }
      }
      return res;
    }, payload);
    for (const c of payload) {
      for (const objective of ['eps', 'x0', 'v'] as const) {
        const ref = referenceSamplerStep(Float64Array.from(c.xt), Float64Array.from(c.out), Float64Array.from(c.noise), c.k, objective, c.clip);
        const gpu = results[`${c.name}/${objective}`]!;
        expect(relError(gpu.xPrev, ref.xPrev), `${c.name} ${objective}`).toBeLessThan(1e-5);
        expect(relError(gpu.x0, ref.x0), `${c.name} ${objective}`).toBeLessThan(1e-5);
      }
    }
  });
});
