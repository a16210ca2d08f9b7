// Float64 reference for the sampler step (src/engine/ops/sampler-step.ts).

import { refArray, type Ref } from './ndarray.ts';
import type { SamplerStepCoefficients } from '../../shaders/sampler-step.ts';

export interface RefStepOptions {
  objective: 'eps' | 'x0' | 'v';
  clipX0: boolean;
  /** The clip bound r (default 1). */
  clipRange?: number;
  /** Sample n of the model output holds C prediction channels, then C variance channels. */
  learnedVariance: boolean;
}

/**
 * x_prev = a·x0 + b·x_t + c·ε + σ·z and the predicted x0, for x_t [N, ...] and the model
 * output [N, ...] (twice the channels with a learned variance); z is `noise` (ignored without
 * addNoise).
 */
export function refSamplerStep(
  xt: Ref,
  modelOut: Ref,
  noise: Ref | null,
  k: SamplerStepCoefficients,
  options: RefStepOptions,
): { xPrev: Ref; x0: Ref } {
  const n = xt.shape[0] ?? 1;
  const per = xt.data.length / n;
  const modelPer = modelOut.data.length / n;
  const xPrev = refArray(xt.shape);
  const x0s = refArray(xt.shape);
  for (let i = 0; i < xt.data.length; i++) {
    const outIdx = Math.floor(i / per) * modelPer + (i % per);
    const x = xt.data[i]!;
    const m = modelOut.data[outIdx]!;
    let x0: number;
    let eps: number;
    if (options.objective === 'eps') [eps, x0] = [m, (x - k.sqrtOneMinusAlphaBar * m) / k.sqrtAlphaBar];
    else if (options.objective === 'x0') [x0, eps] = [m, (x - k.sqrtAlphaBar * m) / k.sqrtOneMinusAlphaBar];
    else [x0, eps] = [k.sqrtAlphaBar * x - k.sqrtOneMinusAlphaBar * m, k.sqrtOneMinusAlphaBar * x + k.sqrtAlphaBar * m];
    const r = options.clipRange ?? 1;
    if (options.clipX0) x0 = Math.min(r, Math.max(-r, x0));
    let sigma = k.sigma;
    if (options.learnedVariance) {
      const frac = (modelOut.data[outIdx + per]! + 1) / 2;
      sigma = Math.exp(0.5 * (frac * k.logBeta + (1 - frac) * k.logBetaTilde));
    }
    xPrev.data[i] = k.a * x0 + k.b * x + k.c * eps + (k.addNoise ? sigma * noise!.data[i]! : 0);
    x0s.data[i] = x0;
  }
  return { xPrev, x0: x0s };
}
