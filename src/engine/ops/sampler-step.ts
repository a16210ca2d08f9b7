// samplerStep: the reverse-process step shared by the DDPM and DDIM samplers, one fused kernel:
// x0 and ε from the model output, x0 clipped if asked, x_prev = a·x0 + b·x_t + c·ε + σ·z.
// The coefficients come from the schedule (src/model/diffusion/sampler-step.ts). Not recorded.
// Kernel: src/shaders/sampler-step.ts. Reference: src/engine/reference/sampler-step.ts.
// Checks: src/engine/checks/sampler-step.ts.

import { samplerStepKernel, type SamplerStepCoefficients } from '../../shaders/sampler-step.ts';
import { fmt } from '../shape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';

export type { SamplerStepCoefficients } from '../../shaders/sampler-step.ts';

/** What the model predicts. */
export type SamplerObjective = 'eps' | 'x0' | 'v';
const OBJECTIVE_CODE: Record<SamplerObjective, number> = { eps: 0, x0: 1, v: 2 };

export interface SamplerStepOptions {
  objective: SamplerObjective;
  clipX0: boolean;
  /** The clip bound r: x0 is clipped to [−r, r] (default 1). */
  clipRange?: number;
  /** The model output has 2C channels, the last C interpolating log β and log β̃ (Improved DDPM). */
  learnedVariance: boolean;
  /** Noise source: a counter-based stream (normals from counters 2i, 2i + 1), or a tensor. */
  noise: { seed: number; counter: number } | Tensor;
}

/** One reverse step for x_t [N, C, H, W] and the model output [N, C or 2C, H, W]. */
export function samplerStep(
  xt: Tensor,
  modelOut: Tensor,
  k: SamplerStepCoefficients,
  options: SamplerStepOptions,
): { xPrev: Tensor; x0: Tensor } {
  assertTensor('samplerStep', 'xt', xt);
  assertTensor('samplerStep', 'modelOut', modelOut);
  const [N, C, H, W] = xt.shape as [number, number, number, number];
  const modelChannels = options.learnedVariance ? 2 * C : C;
  if (xt.rank !== 4 || modelOut.rank !== 4 || modelOut.shape[0] !== N || modelOut.shape[1] !== modelChannels || modelOut.shape[2] !== H || modelOut.shape[3] !== W) {
    throw new Error(`samplerStep: model output ${fmt(modelOut.shape)} does not fit x_t ${fmt(xt.shape)} (${modelChannels} channels expected)`);
  }
  if (options.clipRange !== undefined && !(options.clipRange > 0)) throw new Error(`samplerStep: clipRange must be positive, got ${options.clipRange}`);
  const explicit = !('seed' in options.noise) ? options.noise : null;
  if (explicit) {
    assertTensor('samplerStep', 'noise', explicit);
    if (explicit.size !== xt.size) throw new Error(`samplerStep: noise ${fmt(explicit.shape)} does not match x_t ${fmt(xt.shape)}`);
  }
  const stream = explicit ? { seed: 0, counter: 0 } : (options.noise as { seed: number; counter: number });
  const noiseMode = !k.addNoise ? 0 : explicit ? 2 : 1;
  const xPrev = emptyTensor(xt.shape, 'sampler-x-prev');
  const x0 = emptyTensor(xt.shape, 'sampler-x0');
  launch(
    samplerStepKernel,
    {},
    // The noise tensor is bound only when it is read.
    { xt, modelOut, noise: noiseMode === 2 ? explicit : null, xPrev, x0Pred: x0 },
    {
      count: xt.size,
      channels: C,
      plane: H * W,
      modelChannels,
      objective: OBJECTIVE_CODE[options.objective],
      clipX0: options.clipX0 ? 1 : 0,
      clipRange: options.clipRange ?? 1,
      noiseMode,
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
  );
  return { xPrev, x0 };
}
