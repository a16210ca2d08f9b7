// Diffusion kernels: per-sample schedule gathers (q_sample, targets, x0 from ε) and the fused
// reverse-process step of the DDPM and DDIM samplers.

import { RANDOM_WGSL } from './random.ts';
import { UniformLayout, declareBindings, linearMain, type KernelSpec, type StorageBinding } from './common.ts';

export const DIFFUSION_WORKGROUP = 256;

export const combineUniforms = new UniformLayout([
  { name: 'count', type: 'u32' },
  /** Elements of one sample (C·H·W): sample n = idx / perSample. */
  { name: 'perSample', type: 'u32' },
]);

/**
 * `combine`: out = A[t_n]·x + B[t_n]·y; `scale`: out = A[t_n]·x. Tables are [T] and t holds
 * one integer-valued timestep per sample.
 */
export function timestepCombineKernel(variant: 'combine' | 'scale'): KernelSpec {
  const combine = variant === 'combine';
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'ys', access: 'read' },
    { name: 'tableA', access: 'read' },
    { name: 'tableB', access: 'read' },
    { name: 'timesteps', access: 'read' },
    { name: 'out', access: 'read_write' },
  ];
  const code = `${declareBindings(combineUniforms, storage)}
${linearMain(DIFFUSION_WORKGROUP, 'params.count')}
  let t = u32(timesteps[idx / params.perSample]);
  out[idx] = tableA[t] * xs[idx]${combine ? ' + tableB[t] * ys[idx]' : ''};
}`;
  return { key: `timestep-${variant}`, code, storage, uniforms: combineUniforms, workgroupSize: DIFFUSION_WORKGROUP };
}

export const samplerUniforms = new UniformLayout([
  { name: 'count', type: 'u32' },
  /** Channels of the image and H·W; the model output has `modelChannels` (C, or 2C with a learned variance). */
  { name: 'channels', type: 'u32' },
  { name: 'plane', type: 'u32' },
  { name: 'modelChannels', type: 'u32' },
  /** 0: the model predicts ε, 1: x0, 2: v. */
  { name: 'objective', type: 'u32' },
  { name: 'clipX0', type: 'u32' },
  /** 0: no noise, 1: noise from (seed, counter), 2: noise from the `noise` buffer. */
  { name: 'noiseMode', type: 'u32' },
  /** 1: σ² from the model's variance channels, interpolating log β and log β̃ (Improved DDPM). */
  { name: 'learnedVariance', type: 'u32' },
  { name: 'seed', type: 'u32' },
  { name: 'counter', type: 'u32' },
  { name: 'sqrtAlphaBar', type: 'f32' },
  { name: 'sqrtOneMinusAlphaBar', type: 'f32' },
  /** x_prev = a·x0 + b·x_t + c·ε + σ·z */
  { name: 'a', type: 'f32' },
  { name: 'b', type: 'f32' },
  { name: 'c', type: 'f32' },
  { name: 'sigma', type: 'f32' },
  { name: 'logBeta', type: 'f32' },
  { name: 'logBetaTilde', type: 'f32' },
]);

/**
 * One reverse step for a batch at a shared timestep: x0 and ε from the model output, x0
 * clipped to [−1, 1] if asked (ε stays the model's, as diffusers does), then
 * x_prev = a·x0 + b·x_t + c·ε + σ·z. DDPM: a, b = posterior coefficients, c = 0.
 * DDIM: a = sqrt(ᾱ_prev), b = 0, c = sqrt(1 − ᾱ_prev − σ²).
 */
export function samplerStepKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xt', access: 'read' },
    { name: 'modelOut', access: 'read' },
    { name: 'noise', access: 'read' },
    { name: 'xPrev', access: 'read_write' },
    { name: 'x0Pred', access: 'read_write' },
  ];
  const code = `${declareBindings(samplerUniforms, storage)}
${RANDOM_WGSL}
${linearMain(DIFFUSION_WORKGROUP, 'params.count')}
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
  if (params.clipX0 == 1u) { x0 = clamp(x0, -1.0, 1.0); }
  var sigma = params.sigma;
  if (params.learnedVariance == 1u) {
    let frac = (modelOut[outIdx + params.channels * params.plane] + 1.0) * 0.5;
    sigma = exp(0.5 * (frac * params.logBeta + (1.0 - frac) * params.logBetaTilde));
  }
  var z = 0.0;
  if (params.noiseMode == 1u) { z = randomNormal(params.seed, params.counter + 2u * idx); }
  else if (params.noiseMode == 2u) { z = noise[idx]; }
  xPrev[idx] = params.a * x0 + params.b * x + params.c * eps + sigma * z;
  x0Pred[idx] = x0;
}`;
  return { key: 'sampler-step', code, storage, uniforms: samplerUniforms, workgroupSize: DIFFUSION_WORKGROUP };
}
