// The reverse-process step shared by the DDPM and DDIM samplers: its coefficients (float64, from
// the schedule), the fused GPU kernel launch, and a float64 reference of the same step.

import { launchLinear } from '../../engine/ops/launch.ts';
import { fmt } from '../../engine/shape.ts';
import { emptyTensor, type Tensor } from '../../engine/tensor.ts';
import { DIFFUSION_WORKGROUP, samplerStepKernel } from '../../shaders/diffusion.ts';
import type { Schedule } from './schedule.ts';

export type Objective = 'eps' | 'x0' | 'v';
export type VarianceType = 'fixed-small' | 'fixed-large' | 'learned';
const OBJECTIVE_CODE: Record<Objective, number> = { eps: 0, x0: 1, v: 2 };

/** x_prev = a·x0 + b·x_t + c·ε + σ·z, with the quantities that turn the model output into x0, ε. */
export interface StepCoefficients {
  sqrtAlphaBar: number;
  sqrtOneMinusAlphaBar: number;
  a: number;
  b: number;
  c: number;
  /** Fixed σ (ignored when the variance is learned). */
  sigma: number;
  logBeta: number;
  logBetaTilde: number;
  /** Whether noise is added (not at the last step). */
  addNoise: boolean;
}

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

export interface StepOptions {
  objective: Objective;
  clipX0: boolean;
  learnedVariance: boolean;
  /** Noise source: a counter-based stream, or an explicit tensor (tests). */
  noise: { seed: number; counter: number } | Tensor;
}

/** One reverse step on the GPU: returns x_prev and the predicted x0. */
export function samplerStep(
  xt: Tensor,
  modelOut: Tensor,
  k: StepCoefficients,
  options: StepOptions,
): { xPrev: Tensor; x0: Tensor } {
  const [N, C, H, W] = xt.shape as [number, number, number, number];
  const modelChannels = options.learnedVariance ? 2 * C : C;
  if (xt.rank !== 4 || modelOut.rank !== 4 || modelOut.shape[0] !== N || modelOut.shape[1] !== modelChannels || modelOut.shape[2] !== H || modelOut.shape[3] !== W) {
    throw new Error(`samplerStep: model output ${fmt(modelOut.shape)} does not fit x_t ${fmt(xt.shape)} (${modelChannels} channels expected)`);
  }
  const xPrev = emptyTensor(xt.shape, 'sampler-x-prev');
  const x0 = emptyTensor(xt.shape, 'sampler-x0');
  const explicit = !('seed' in options.noise) ? (options.noise as Tensor) : null;
  const stream = explicit ? { seed: 0, counter: 0 } : (options.noise as { seed: number; counter: number });
  launchLinear(
    'sampler-step',
    samplerStepKernel,
    {
      count: xt.size,
      channels: C,
      plane: H * W,
      modelChannels,
      objective: OBJECTIVE_CODE[options.objective],
      clipX0: options.clipX0 ? 1 : 0,
      noiseMode: !k.addNoise ? 0 : explicit ? 2 : 1,
      learnedVariance: options.learnedVariance ? 1 : 0,
      seed: stream.seed >>> 0,
      counter: stream.counter >>> 0,
      sqrtAlphaBar: k.sqrtAlphaBar,
      sqrtOneMinusAlphaBar: k.sqrtOneMinusAlphaBar,
      a: k.a,
      b: k.b,
      c: k.c,
      sigma: k.sigma,
      logBeta: k.logBeta,
      logBetaTilde: k.logBetaTilde,
    },
    [xt.buffer, modelOut.buffer, (explicit ?? xt).buffer, xPrev.buffer, x0.buffer],
    xt.size,
    DIFFUSION_WORKGROUP,
  );
  return { xPrev, x0 };
}

/** The same step in float64 on the CPU, fed the same noise. */
export function referenceSamplerStep(
  xt: Float64Array,
  modelOut: Float64Array,
  noise: Float64Array,
  k: StepCoefficients,
  objective: Objective,
  clipX0: boolean,
): { xPrev: Float64Array; x0: Float64Array } {
  const xPrev = new Float64Array(xt.length);
  const x0s = new Float64Array(xt.length);
  for (let i = 0; i < xt.length; i++) {
    const x = xt[i]!;
    const m = modelOut[i]!;
    let x0: number;
    let eps: number;
    if (objective === 'eps') [eps, x0] = [m, (x - k.sqrtOneMinusAlphaBar * m) / k.sqrtAlphaBar];
    else if (objective === 'x0') [x0, eps] = [m, (x - k.sqrtAlphaBar * m) / k.sqrtOneMinusAlphaBar];
    else [x0, eps] = [k.sqrtAlphaBar * x - k.sqrtOneMinusAlphaBar * m, k.sqrtOneMinusAlphaBar * x + k.sqrtAlphaBar * m];
    if (clipX0) x0 = Math.min(1, Math.max(-1, x0));
    xPrev[i] = k.a * x0 + k.b * x + k.c * eps + (k.addNoise ? k.sigma * noise[i]! : 0);
    x0s[i] = x0;
  }
  return { xPrev, x0: x0s };
}
