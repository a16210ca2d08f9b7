// The reverse-process step shared by the DDPM and DDIM samplers: its coefficients (float64, from
// the schedule). The step itself is the engine's samplerStep op (src/engine/ops/sampler-step.ts),
// its float64 reference refSamplerStep.

import {
  samplerStep,
  type SamplerObjective,
  type SamplerStepCoefficients,
  type SamplerStepOptions,
} from '../../engine/index.ts';
import { refArray, refSamplerStep } from '../../engine/reference/index.ts';
import type { Schedule } from './schedule.ts';

export { samplerStep };
export type Objective = SamplerObjective;
export type VarianceType = 'fixed-small' | 'fixed-large' | 'learned';

/** x_prev = a·x0 + b·x_t + c·ε + σ·z, with the quantities that turn the model output into x0, ε. */
export type StepCoefficients = SamplerStepCoefficients;

/** DDPM ancestral step from t to t − 1. */
export function ddpmCoefficients(s: Schedule, t: number, variance: VarianceType): StepCoefficients {
  const small = s.posteriorVariance[t]!;
  const large = s.betas[t]!;
  return {
    sqrtAlphaBar: s.sqrtAlphasCumprod[t]!,
    sqrtOneMinusAlphaBar: s.sqrtOneMinusAlphasCumprod[t]!,
    a: s.posteriorMeanCoef1[t]!,
    b: s.posteriorMeanCoef2[t]!,
    c: 0,
    sigma: Math.sqrt(variance === 'fixed-large' ? large : small),
    logBeta: Math.log(large),
    logBetaTilde: s.posteriorLogVarianceClipped[t]!,
    addNoise: t > 0,
  };
}

/** DDIM step from t to tPrev (tPrev < 0: the end, ᾱ = 1), with stochasticity eta. */
export function ddimCoefficients(s: Schedule, t: number, tPrev: number, eta: number): StepCoefficients {
  const abar = s.alphasCumprod[t]!;
  const abarPrev = tPrev >= 0 ? s.alphasCumprod[tPrev]! : 1;
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

/** DDIM's timesteps for `steps` steps out of T ("leading" spacing, as diffusers). */
export function ddimTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new Error(`DDIM: steps must be an integer in [1, ${T}], got ${steps}`);
  const ratio = Math.floor(T / steps);
  return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio);
}

/**
 * One step of DPM-Solver++(2M) (Lu et al. 2022, the multistep data-prediction solver of the
 * probability-flow ODE): x_next = xScale·x + x0Weight·x̂0 + prevX0Weight·x̂0_prev, where x̂0 is
 * the model's prediction at t and x̂0_prev the one at the step before.
 */
export interface DpmSolverStep {
  t: number;
  /** The timestep the step lands on; −1 for the end (ᾱ = 1, σ = 0). */
  tNext: number;
  xScale: number;
  x0Weight: number;
  prevX0Weight: number;
}

/** DPM-Solver's timesteps: `steps` evaluations evenly spaced from T − 1 down (diffusers' "linspace"). */
export function dpmSolverTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new Error(`DPM-Solver: steps must be an integer in [1, ${T}], got ${steps}`);
  return Array.from({ length: steps }, (_, i) => Math.round(((T - 1) * (steps - i)) / steps));
}

/**
 * The whole DPM-Solver++(2M) plan for `steps` model evaluations. In log-SNR λ = log(α/σ) with
 * h = λ_next − λ_t, the first-order update is x_next = (σ_next/σ_t)·x − α_next(e^{−h} − 1)·D,
 * D = x̂0; later steps use D = (1 + 1/2r)·x̂0 − (1/2r)·x̂0_prev with r = h_prev/h. The first step
 * and the last one (to σ = 0, where x_next = D) are first order, as diffusers' lower_order_final.
 */
export function dpmSolverPlan(s: Schedule, steps: number): DpmSolverStep[] {
  const ts = dpmSolverTimesteps(s.T, steps);
  const alpha = (t: number) => (t >= 0 ? Math.sqrt(s.alphasCumprod[t]!) : 1);
  const sigma = (t: number) => (t >= 0 ? Math.sqrt(1 - s.alphasCumprod[t]!) : 0);
  const lambda = (t: number) => Math.log(alpha(t)) - Math.log(sigma(t));
  let hPrev = 0;
  return ts.map((t, i) => {
    const tNext = ts[i + 1] ?? -1;
    // σ_next = 0: the solution is D; first order there, since λ_next is infinite.
    if (tNext < 0) return { t, tNext, xScale: 0, x0Weight: 1, prevX0Weight: 0 };
    const h = lambda(tNext) - lambda(t);
    const phi = -alpha(tNext) * Math.expm1(-h); // α_next(1 − e^{−h})
    const k = i > 0 ? h / (2 * hPrev) : 0; // 1/(2r), r = h_prev/h; 0: first order
    hPrev = h;
    return { t, tNext, xScale: sigma(tNext) / sigma(t), x0Weight: phi * (1 + k), prevX0Weight: -phi * k };
  });
}

export type StepOptions = SamplerStepOptions;

/** The same step in float64 on the CPU, fed the same noise. */
export function referenceSamplerStep(
  xt: Float64Array,
  modelOut: Float64Array,
  noise: Float64Array,
  k: StepCoefficients,
  objective: Objective,
  clipX0: boolean,
  clipRange = 1,
): { xPrev: Float64Array; x0: Float64Array } {
  const shape = [xt.length];
  const r = refSamplerStep(refArray(shape, xt), refArray(shape, modelOut), refArray(shape, noise), k, {
    objective,
    clipX0,
    clipRange,
    learnedVariance: false,
  });
  return { xPrev: r.xPrev.data, x0: r.x0.data };
}
