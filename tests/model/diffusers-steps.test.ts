// Sampling with diffusers' conventions (src/model/diffusion/diffusers-steps.ts): set_timesteps'
// spacings against numpy's values, and the DDPMScheduler / DDIMScheduler steps and the 50-step
// DDIM trajectory of the PyTorch fixtures, reached through a diffusers scheduler_config.json.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../../src/engine/safetensors.ts';
import { diffusionFromScheduler } from '../../src/app/diffusers/scheduler-config.ts';
import {
  diffusersDdimCoefficients,
  diffusersDdpmCoefficients,
  diffusersPlan,
  diffusersTimesteps,
} from '../../src/model/diffusion/diffusers-steps.ts';
import { referenceSamplerStep } from '../../src/model/diffusion/sampler-step.ts';
import { makeSchedule } from '../../src/model/diffusion/schedule.ts';

const dir = new URL('../fixtures/torch-reference/', import.meta.url);
const steps = readSafetensors(readFileSync(new URL('ddpm_step.safetensors', dir))).tensors;
const meta = JSON.parse(readFileSync(new URL('ddpm_step.json', dir), 'utf8'));
const f64 = (t: { data: unknown }) => Float64Array.from(t.data as Float32Array);

/** Max |a−b| / (|b| + atol) over elements. */
function maxScaledError(a: ArrayLike<number>, b: ArrayLike<number>, atol: number): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (Math.abs(b[i]!) + atol));
  return worst;
}

/** The fixture's schedulers, as the scheduler_config.json diffusers writes for them. */
const ddpmConfig = (variance: string, clip: boolean) =>
  diffusionFromScheduler({ _class_name: 'DDPMScheduler', ...meta.ddpm.common_config, variance_type: variance, clip_sample: clip }, 'ddpm');
const ddimConfig = (clip: boolean) => diffusionFromScheduler({ _class_name: 'DDIMScheduler', ...meta.ddim.common_config, clip_sample: clip }, 'ddim');

describe("diffusers' timesteps", () => {
  // Expected values from numpy (diffusers' own expressions, evaluated with numpy 2.4).
  test.each([
    ['trailing', 1000, 30, [999, 966, 932, 899, 866, 832], [99, 66, 32]],
    ['linspace', 1000, 30, [999, 965, 930, 896, 861, 827], [69, 34, 0]],
    ['trailing', 1000, 7, [999, 856, 713, 570, 428, 285], [428, 285, 142]],
    ['linspace', 1000, 7, [999, 832, 666, 500, 333, 166], [333, 166, 0]],
    ['trailing', 10, 4, [9, 7, 4, 1], [7, 4, 1]],
    ['linspace', 10, 6, [9, 7, 5, 4, 2, 0], [4, 2, 0]],
    ['trailing', 10, 6, [9, 7, 6, 4, 2, 1], [4, 2, 1]],
  ] as const)('%s T=%i, %i steps', (spacing, T, n, head, tail) => {
    const ts = diffusersTimesteps(T, n, { timestepSpacing: spacing, stepsOffset: 0 });
    expect(ts).toHaveLength(n);
    expect(ts.slice(0, head.length)).toEqual(head);
    expect(ts.slice(-tail.length)).toEqual(tail);
  });

  test('leading adds steps_offset; the fixture list for 50 of 1000; timesteps past T are refused', () => {
    expect(diffusersTimesteps(1000, 50, { timestepSpacing: 'leading', stepsOffset: 0 })).toEqual(meta.ddim.timesteps_after_set_timesteps_50);
    expect(diffusersTimesteps(1000, 50, { timestepSpacing: 'leading', stepsOffset: 1 }).slice(-2)).toEqual([21, 1]);
    expect(() => diffusersTimesteps(1000, 1000, { timestepSpacing: 'leading', stepsOffset: 1 })).toThrow(/gives timestep 1000, outside 0 … 999/);
  });
});

describe("diffusers' scheduler steps against the PyTorch fixtures", () => {
  const worst = { ddpm: 0, ddim: 0, coef: 0 };
  for (const c of meta.cases as any[]) {
    test(`${c.sched} ${c.variant} t=${c.timestep}`, () => {
      const diffusion = c.sched === 'ddpm' ? ddpmConfig(c.variance_type, c.clip_sample) : ddimConfig(c.clip_sample);
      const conventions = diffusion.diffusers!;
      const s = makeSchedule(diffusion.schedule);
      const prev = c.timestep - Math.floor(1000 / (c.sched === 'ddpm' ? 1000 : 50));
      expect(prev).toBe(c.prev_timestep);
      const k =
        c.sched === 'ddpm'
          ? diffusersDdpmCoefficients(s, c.timestep, prev, diffusion.variance)
          : diffusersDdimCoefficients(s, c.timestep, prev, c.eta, conventions.setAlphaToOne);
      // diffusers' float32 scalars of this very step against ours (float64 schedule).
      const rel = (a: number, b: number) => (b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b));
      const pairs: [number, number][] =
        c.sched === 'ddpm'
          ? [[k.a, c.coef1], [k.b, c.coef2], [k.sigma ** 2, c.variance]]
          : [[k.sigma, c.std_dev_t], [k.a ** 2, c.alpha_prod_t_prev]];
      for (const [ours, theirs] of pairs) worst.coef = Math.max(worst.coef, rel(ours, theirs));
      const r = referenceSamplerStep(
        f64(steps.get(`${c.inputs}.sample`)!),
        f64(steps.get(`${c.inputs}.model_output`)!),
        f64(steps.get(`${c.inputs}.noise`)!),
        k,
        diffusion.objective,
        conventions.clipSample,
        conventions.clipSampleRange,
      );
      const e = Math.max(
        maxScaledError(r.x0, f64(steps.get(`${c.outputs}.pred_original_sample`)!), 1e-2),
        maxScaledError(r.xPrev, f64(steps.get(`${c.outputs}.prev_sample`)!), 1e-2),
      );
      worst[c.sched as 'ddpm' | 'ddim'] = Math.max(worst[c.sched as 'ddpm' | 'ddim'], e);
      // The fixture README: our float64 schedule differs from diffusers' float32 one by ~1e-4 relative at small t.
      expect(e).toBeLessThan(5e-4);
    });
  }
  test('worst errors (printed)', () => {
    console.log(`diffusers steps vs PyTorch: DDPM ${worst.ddpm.toExponential(2)}, DDIM ${worst.ddim.toExponential(2)}, coefficients ${worst.coef.toExponential(2)}`);
    expect(worst.coef).toBeLessThan(1e-3);
  });

  test('the 50-step DDIM trajectory (eta 0 and 1), step by step from the stored samples and model outputs', () => {
    const traj = readSafetensors(readFileSync(new URL('tiny_unet/ddim_sampling.safetensors', dir))).tensors;
    const diffusion = diffusionFromScheduler({ _class_name: 'DDIMScheduler' }, 'ddim');
    const s = makeSchedule(diffusion.schedule);
    const report: string[] = [];
    for (const eta of [0, 1]) {
      const plan = diffusersPlan(s, diffusion.diffusers!, { sampler: 'ddim', steps: 50, eta, variance: diffusion.variance });
      expect(plan.map((p) => p.t)).toEqual(JSON.parse(readFileSync(new URL('tiny_unet/ddim_sampling.json', dir), 'utf8')).timesteps);
      const samples = f64(traj.get(`eta${eta}.samples`)!);
      const outputs = f64(traj.get(`eta${eta}.model_outputs`)!);
      const noise = eta ? f64(traj.get('eta1.noise')!) : new Float64Array(outputs.length);
      const per = outputs.length / 50;
      let worstStep = 0;
      let chained: Float64Array = samples.slice(0, per);
      for (let i = 0; i < 50; i++) {
        const at = (a: Float64Array, j: number) => a.subarray(j * per, (j + 1) * per);
        const r = referenceSamplerStep(at(samples, i), at(outputs, i), at(noise, i), plan[i]!.k, 'eps', true);
        worstStep = Math.max(worstStep, maxScaledError(r.xPrev, at(samples, i + 1), 1e-2));
        chained = referenceSamplerStep(chained, at(outputs, i), at(noise, i), plan[i]!.k, 'eps', true).xPrev;
      }
      const end = maxScaledError(chained, samples.subarray(50 * per), 1e-2);
      report.push(`eta ${eta}: worst step ${worstStep.toExponential(2)}, chained end ${end.toExponential(2)}`);
      expect(worstStep).toBeLessThan(2e-4);
      expect(end).toBeLessThan(2e-4);
    }
    console.log(`DDIM-50 trajectory vs PyTorch: ${report.join('; ')}`);
  });
});
