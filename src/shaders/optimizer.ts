// Optimiser kernels over a whole parameter arena in one dispatch: Adam/AdamW with global-norm
// gradient clipping folded in, and the exponential moving average of the weights.

import { UniformLayout, declareBindings, linearMain, type KernelSpec, type StorageBinding } from './common.ts';

export const OPTIMIZER_WORKGROUP = 256;

export const adamUniforms = new UniformLayout([
  { name: 'count', type: 'u32' },
  /** 1: AdamW (decoupled decay); 0: Adam (L2 added to the gradient, as torch.optim.Adam). */
  { name: 'decoupled', type: 'u32' },
  { name: 'lr', type: 'f32' },
  { name: 'beta1', type: 'f32' },
  { name: 'beta2', type: 'f32' },
  /** 1 − β, computed in float64: 1 − f32(0.999) is off by 5e-5 relative. */
  { name: 'oneMinusBeta1', type: 'f32' },
  { name: 'oneMinusBeta2', type: 'f32' },
  { name: 'eps', type: 'f32' },
  { name: 'weightDecay', type: 'f32' },
  /** 1 − β1^t and 1 − β2^t for this step t. */
  { name: 'biasCorrection1', type: 'f32' },
  { name: 'biasCorrection2', type: 'f32' },
  /** Clip the global gradient norm to this (0: no clipping). */
  { name: 'maxGradNorm', type: 'f32' },
]);

export function adamKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'weights', access: 'read_write' },
    { name: 'grads', access: 'read' },
    { name: 'm', access: 'read_write' },
    { name: 'v', access: 'read_write' },
    { name: 'gradNormSq', access: 'read' },
  ];
  const code = `${declareBindings(adamUniforms, storage)}
${linearMain(OPTIMIZER_WORKGROUP, 'params.count')}
  var scale = 1.0;
  if (params.maxGradNorm > 0.0) {
    scale = min(1.0, params.maxGradNorm / (sqrt(gradNormSq[0]) + 1e-6));
  }
  var p = weights[idx];
  var g = grads[idx] * scale;
  if (params.decoupled == 1u) {
    p = p - params.lr * params.weightDecay * p;
  } else {
    g = g + params.weightDecay * p;
  }
  let mNew = params.beta1 * m[idx] + params.oneMinusBeta1 * g;
  let vNew = params.beta2 * v[idx] + params.oneMinusBeta2 * g * g;
  m[idx] = mNew;
  v[idx] = vNew;
  let denom = sqrt(vNew) / sqrt(params.biasCorrection2) + params.eps;
  weights[idx] = p - (params.lr / params.biasCorrection1) * mNew / denom;
}`;
  return { key: 'adam', code, storage, uniforms: adamUniforms, workgroupSize: OPTIMIZER_WORKGROUP };
}

export const emaUniforms = new UniformLayout([
  { name: 'count', type: 'u32' },
  { name: 'decay', type: 'f32' },
]);

/** ema ← decay·ema + (1 − decay)·params. */
export function emaKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'ema', access: 'read_write' },
    { name: 'weights', access: 'read' },
  ];
  const code = `${declareBindings(emaUniforms, storage)}
${linearMain(OPTIMIZER_WORKGROUP, 'params.count')}
  ema[idx] = params.decay * ema[idx] + (1.0 - params.decay) * weights[idx];
}`;
  return { key: 'ema', code, storage, uniforms: emaUniforms, workgroupSize: OPTIMIZER_WORKGROUP };
}
