// DPM-Solver++(2M) against the exact probability-flow ODE solution for Gaussian data, where the
// ideal denoiser is known in closed form: for x0 ~ N(0, s²), E[x0 | x_t] = α s² x_t / (α² s² + σ²)
// and the ODE carries x_t to x0 = s · x_t / √(α_t² s² + σ_t²).

import { describe, expect, test } from 'vitest';
import { makeSchedule } from '../../src/model/diffusion/schedule.ts';
import { ddimCoefficients, ddimTimesteps, dpmSolverPlan, dpmSolverTimesteps } from '../../src/model/diffusion/sampler-step.ts';

const s = 0.5; // data standard deviation
const schedule = makeSchedule({ type: 'linear', T: 1000 });
const alpha = (t: number) => Math.sqrt(schedule.alphasCumprod[t]!);
const sigma = (t: number) => Math.sqrt(1 - schedule.alphasCumprod[t]!);
const idealX0 = (x: number, t: number) => (alpha(t) * s * s * x) / (alpha(t) ** 2 * s * s + sigma(t) ** 2);
const exactEnd = (x: number, t: number) => (s * x) / Math.sqrt(alpha(t) ** 2 * s * s + sigma(t) ** 2);

/** Relative error of DPM-Solver++(2M) with `steps` evaluations from x at t = T − 1. */
function dpmError(steps: number, x = 1.3): number {
  let prev = 0;
  let xt = x;
  for (const p of dpmSolverPlan(schedule, steps)) {
    const x0 = idealX0(xt, p.t);
    xt = p.xScale * xt + p.x0Weight * x0 + p.prevX0Weight * prev;
    prev = x0;
  }
  return Math.abs(xt - exactEnd(x, schedule.T - 1)) / Math.abs(exactEnd(x, schedule.T - 1));
}

/** The same for deterministic DDIM from its first timestep. */
function ddimError(steps: number, x = 1.3): number {
  const ts = ddimTimesteps(schedule.T, steps);
  let xt = x;
  ts.forEach((t, i) => {
    const k = ddimCoefficients(schedule, t, ts[i + 1] ?? -1, 0);
    const x0 = idealX0(xt, t);
    const eps = (xt - alpha(t) * x0) / sigma(t);
    xt = k.a * x0 + k.c * eps;
  });
  return Math.abs(xt - exactEnd(x, ts[0]!)) / Math.abs(exactEnd(x, ts[0]!));
}

describe('DPM-Solver++(2M)', () => {
  test('timesteps: evenly spaced from T − 1 down, as diffusers with linspace spacing', () => {
    expect(dpmSolverTimesteps(1000, 4)).toEqual([999, 749, 500, 250]);
    expect(() => dpmSolverTimesteps(1000, 0)).toThrow('steps must be an integer in [1, 1000]');
  });
  test('one step lands on the first x̂0', () => {
    expect(dpmSolverPlan(schedule, 1)).toEqual([{ t: 999, tNext: -1, xScale: 0, x0Weight: 1, prevX0Weight: 0 }]);
  });
  test('converges to the exact ODE solution, at second order, and beats DDIM at equal steps', () => {
    const errors = [10, 20, 40].map((n) => dpmError(n));
    const ddim = [10, 20, 40].map((n) => ddimError(n));
    console.log(`DPM-Solver++(2M) errors ${errors.map((e) => e.toExponential(2))}; DDIM ${ddim.map((e) => e.toExponential(2))}`);
    // Measured: 1.9e-1, 4.6e-2, 3.6e-3 against DDIM's 2.5e-1, 1.3e-1, 6.8e-2.
    expect(errors[1]!).toBeLessThan(errors[0]! / 4); // halving the step size at least quarters the error
    expect(errors[2]!).toBeLessThan(errors[1]! / 4);
    for (let i = 0; i < 3; i++) expect(errors[i]!).toBeLessThan(ddim[i]!);
    expect(errors[1]!).toBeLessThan(ddim[1]! / 2);
  });
});

describe('DPM-Solver++(2M) on the GPU', () => {
  test('each step combines x_t, x̂0 and the previous x̂0 with the plan\'s weights', async () => {
    const { inPage } = await import('../setup/page.ts');
    const r = await inPage(async () => {
      const h = (window as any).ddpmHarness;
      const { UNet } = await h.importModule('/src/model/unet.ts');
      const { preset } = await h.importModule('/src/model/config.ts');
      const { GaussianDiffusion } = await h.importModule('/src/model/diffusion/gaussian-diffusion.ts');
      const { sample } = await h.importModule('/src/model/diffusion/sample.ts');
      const { dpmSolverPlan } = await h.importModule('/src/model/diffusion/sampler-step.ts');
      const model = new UNet({ ...preset('fashion-16'), imageSize: 8 }).build(3).eval();
      const diffusion = new GaussianDiffusion({ objective: 'v' });
      const frames: { xt: number[]; x0: number[] }[] = [];
      const images = await sample(model, diffusion, {
        n: 2,
        sampler: 'dpm-solver',
        steps: 4,
        clipX0: false,
        seed: 5,
        every: 1,
        onFrame: (f: { xt: Float32Array; x0: Float32Array }) => frames.push({ xt: [...f.xt], x0: [...f.x0] }),
      });
      model.dispose();
      return { frames, images: [...images], plan: dpmSolverPlan(diffusion.schedule, 4) };
    });
    const { frames, plan } = r;
    expect(frames.length).toBe(4);
    let worst = 0;
    for (let i = 1; i < 4; i++) {
      const p = plan[i]!;
      frames[i]!.xt.forEach((v, j) => {
        const expected = p.xScale * frames[i - 1]!.xt[j]! + p.x0Weight * frames[i]!.x0[j]! + p.prevX0Weight * frames[i - 1]!.x0[j]!;
        worst = Math.max(worst, Math.abs(v - expected) / (1 + Math.abs(expected)));
      });
    }
    expect(worst).toBeLessThan(1e-5);
    // The last step lands on its x̂0; the result is what sample() returns.
    expect(r.images).toEqual(frames[3]!.xt);
    expect(frames[3]!.xt).toEqual(frames[3]!.x0);
  });
});
