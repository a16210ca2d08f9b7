// Sampling as diffusers' DDPMScheduler and DDIMScheduler do it (v0.31), for models that come from
// diffusers. Where their conventions differ from ours (src/model/diffusion/sampler-step.ts):
// - the timesteps of `set_timesteps`: "leading" (plus steps_offset), "trailing" or "linspace";
// - a step goes from t to t − T // steps (not to the next listed timestep), for DDPM and DDIM;
// - DDPM recomputes β from the ᾱ ratio inside a step (β'_t = 1 − ᾱ_t / ᾱ_prev), takes
//   fixed_small = max(1e-20, β̃'), and adds noise whenever t > 0;
// - DDIM's ᾱ after the last step is 1 (set_alpha_to_one) or ᾱ_0;
// - x0 is clipped to [−clip_sample_range, clip_sample_range].
// The step itself is the same fused kernel; only its coefficients and timesteps differ.

import type { Schedule } from './schedule.ts';
import type { StepCoefficients, VarianceType } from './sampler-step.ts';

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/** What a diffusers scheduler config says about sampling, beyond the schedule and the objective. */
export interface SchedulerConventions {
  /** The scheduler class: DDPMScheduler ('ddpm') or DDIMScheduler ('ddim'). */
  scheduler: 'ddpm' | 'ddim';
  /** The pipeline class, DDPMPipeline or DDIMPipeline: which sampler is the model's own (absent: a bare UNet2DModel). */
  pipeline?: 'ddpm' | 'ddim';
  timestepSpacing: TimestepSpacing;
  /** Added to "leading" timesteps. */
  stepsOffset: number;
  /** DDIM: ᾱ after the last step is 1 (true) or ᾱ_0 (false). */
  setAlphaToOne: boolean;
  /** Whether sampling clips x0 by default (clip_sample). */
  clipSample: boolean;
  /** The clip bound r: x0 ∈ [−r, r] (clip_sample_range). */
  clipSampleRange: number;
}

/** numpy's round: halves to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The timesteps `set_timesteps(steps)` gives, first to last. */
export function diffusersTimesteps(T: number, steps: number, c: Pick<SchedulerConventions, 'timestepSpacing' | 'stepsOffset'>): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new Error(`sampling: steps must be an integer in [1, ${T}], got ${steps}`);
  let ts: number[];
  if (c.timestepSpacing === 'leading') {
    const ratio = Math.floor(T / steps);
    ts = Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + c.stepsOffset);
  } else if (c.timestepSpacing === 'trailing') {
    // np.round(np.arange(T, 0, -T / steps)) - 1; arange fills T + i·((T − ratio) − T).
    const ratio = T / steps;
    const count = Math.ceil(-T / -ratio);
    const delta = T - ratio - T;
    ts = Array.from({ length: count }, (_, i) => roundHalfEven(i === 1 ? T - ratio : T + i * delta) - 1);
  } else {
    // np.linspace(0, T - 1, steps).round()[::-1]
    const step = steps > 1 ? (T - 1) / (steps - 1) : 0;
    ts = Array.from({ length: steps }, (_, i) => roundHalfEven(i === steps - 1 && steps > 1 ? T - 1 : i * step)).reverse();
  }
  const bad = ts.find((t) => t < 0 || t >= T);
  if (bad !== undefined) {
    throw new Error(`sampling: ${c.timestepSpacing} spacing with steps_offset ${c.stepsOffset} gives timestep ${bad}, outside 0 … ${T - 1}`);
  }
  return ts;
}

/** DDPMScheduler.step's coefficients from t to prevT (prevT < 0: the end, ᾱ = 1). */
export function diffusersDdpmCoefficients(s: Schedule, t: number, prevT: number, variance: VarianceType): StepCoefficients {
  const abar = s.alphasCumprod[t]!;
  const abarPrev = prevT >= 0 ? s.alphasCumprod[prevT]! : 1;
  const alpha = abar / abarPrev;
  const beta = 1 - alpha;
  const small = Math.max(1e-20, ((1 - abarPrev) / (1 - abar)) * beta);
  return {
    sqrtAlphaBar: Math.sqrt(abar),
    sqrtOneMinusAlphaBar: Math.sqrt(1 - abar),
    a: (Math.sqrt(abarPrev) * beta) / (1 - abar),
    b: (Math.sqrt(alpha) * (1 - abarPrev)) / (1 - abar),
    c: 0,
    sigma: Math.sqrt(variance === 'fixed-large' ? beta : small),
    logBeta: Math.log(beta),
    logBetaTilde: Math.log(small),
    addNoise: t > 0,
  };
}

/** DDIMScheduler.step's coefficients from t to prevT (prevT < 0: the final ᾱ), stochasticity eta. */
export function diffusersDdimCoefficients(s: Schedule, t: number, prevT: number, eta: number, setAlphaToOne: boolean): StepCoefficients {
  const abar = s.alphasCumprod[t]!;
  const abarPrev = prevT >= 0 ? s.alphasCumprod[prevT]! : setAlphaToOne ? 1 : s.alphasCumprod[0]!;
  const variance = ((1 - abarPrev) / (1 - abar)) * (1 - abar / abarPrev);
  const sigma = eta * Math.sqrt(variance);
  return {
    sqrtAlphaBar: Math.sqrt(abar),
    sqrtOneMinusAlphaBar: Math.sqrt(1 - abar),
    a: Math.sqrt(abarPrev),
    b: 0,
    c: Math.sqrt(Math.max(0, 1 - abarPrev - sigma * sigma)),
    sigma,
    logBeta: 0,
    logBetaTilde: 0,
    addNoise: eta > 0,
  };
}

export interface PlannedStep {
  t: number;
  k: StepCoefficients;
}

/** Every step of a diffusers-style sampling run: DDPM or DDIM with `steps` steps. */
export function diffusersPlan(
  s: Schedule,
  c: SchedulerConventions,
  options: { sampler: 'ddpm' | 'ddim'; steps: number; eta: number; variance: VarianceType },
): PlannedStep[] {
  const stride = Math.floor(s.T / options.steps);
  return diffusersTimesteps(s.T, options.steps, c).map((t) => ({
    t,
    k:
      options.sampler === 'ddpm'
        ? diffusersDdpmCoefficients(s, t, t - stride, options.variance)
        : diffusersDdimCoefficients(s, t, t - stride, options.eta, c.setAlphaToOne),
  }));
}
