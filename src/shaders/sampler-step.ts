// The fused reverse-process step of the DDPM and DDIM samplers (src/engine/ops/sampler-step.ts).

import { defineKernel } from './kernel.ts';
import { RANDOM_WGSL } from './random.ts';

export const SAMPLER_STEP_WORKGROUP = 256;

/**
 * One reverse step for a batch at a shared timestep: x0 and ε from the model output, x0
 * clipped to [−r, r] if asked (ε stays the model's, as diffusers does), then
 * x_prev = a·x0 + b·x_t + c·ε + σ·z. DDPM: a, b = posterior coefficients, c = 0.
 * DDIM: a = sqrt(ᾱ_prev), b = 0, c = sqrt(1 − ᾱ_prev − σ²).
 * The `noise` buffer is bound only for noiseMode 2.
 */
export const samplerStepKernel = defineKernel({
  name: 'sampler-step',
  uniforms: {
    count: 'u32',
    /** Channels of the image and H·W; the model output has `modelChannels` (C, or 2C with a learned variance). */
    channels: 'u32',
    plane: 'u32',
    modelChannels: 'u32',
    /** 0: the model predicts ε, 1: x0, 2: v. */
    objective: 'u32',
    clipX0: 'u32',
    /** x0 is clipped to [−clipRange, clipRange] (diffusers' clip_sample_range; 1 for images in [−1, 1]). */
    clipRange: 'f32',
    /** 0: no noise, 1: noise from (seed, counter), 2: noise from the `noise` buffer. */
    noiseMode: 'u32',
    /** 1: σ² from the model's variance channels, interpolating log β and log β̃ (Improved DDPM). */
    learnedVariance: 'u32',
    seed: 'u32',
    counter: 'u32',
    sqrtAlphaBar: 'f32',
    sqrtOneMinusAlphaBar: 'f32',
    /** x_prev = a·x0 + b·x_t + c·ε + σ·z */
    a: 'f32',
    b: 'f32',
    c: 'f32',
    sigma: 'f32',
    logBeta: 'f32',
    logBetaTilde: 'f32',
  },
  bindings: {
    xt: 'read',
    modelOut: 'read',
    noise: { access: 'read', optional: true },
    xPrev: 'read_write',
    x0Pred: 'read_write',
  },
  workgroupSize: SAMPLER_STEP_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${RANDOM_WGSL}
${k.main}
  let n = idx / (params.channels * params.plane);
  let within = idx % (params.channels * params.plane);
  let outIdx = n * params.modelChannels * params.plane + within;
  let x = xt[idx];
  let m = modelOut[outIdx];
  var x0: f32;
  var eps: f32;
  if (params.objective == 0u) {
    eps = m;
    x0 = (x - params.sqrtOneMinusAlphaBar * m) / params.sqrtAlphaBar;
  } else if (params.objective == 1u) {
    x0 = m;
    eps = (x - params.sqrtAlphaBar * m) / params.sqrtOneMinusAlphaBar;
  } else {
    x0 = params.sqrtAlphaBar * x - params.sqrtOneMinusAlphaBar * m;
    eps = params.sqrtOneMinusAlphaBar * x + params.sqrtAlphaBar * m;
  }
  if (params.clipX0 == 1u) { x0 = clamp(x0, -params.clipRange, params.clipRange); }
  var sigma = params.sigma;
  if (params.learnedVariance == 1u) {
    let frac = (modelOut[outIdx + params.channels * params.plane] + 1.0) * 0.5;
    sigma = exp(0.5 * (frac * params.logBeta + (1.0 - frac) * params.logBetaTilde));
  }
  var z = 0.0;
  if (params.noiseMode == 1u) { z = randomNormal(params.seed, params.counter + 2u * idx); }${
    k.has.noise ? '\n  else if (params.noiseMode == 2u) { z = noise[idx]; }' : ''
  }
  xPrev[idx] = params.a * x0 + params.b * x + params.c * eps + sigma * z;
  x0Pred[idx] = x0;
}`,
});

/** x_prev = a·x0 + b·x_t + c·ε + σ·z, with the quantities that turn the model output into x0, ε. */
export interface SamplerStepCoefficients {
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
