// Optimiser kernels over a whole parameter arena in one dispatch: Adam/AdamW with global-norm
// gradient clipping folded in, and the exponential moving average of the weights.
// Ops: src/engine/ops/optim.ts.

import { defineKernel } from './kernel.ts';

export const OPTIM_WORKGROUP = 256;

/**
 * One Adam/AdamW step of every element, in place on weights, m and v. With `gradNormSq` (Σ g²
 * over all gradients, one element) bound and maxGradNorm > 0, the gradients are first scaled to
 * a global norm of at most maxGradNorm.
 */
export const adamKernel = defineKernel({
  name: 'adam',
  uniforms: {
    count: 'u32',
    /** 1: AdamW (decoupled decay); 0: Adam (L2 added to the gradient, as torch.optim.Adam). */
    decoupled: 'u32',
    lr: 'f32',
    beta1: 'f32',
    beta2: 'f32',
    /** 1 − β, computed in float64: 1 − f32(0.999) is off by 5e-5 relative. */
    oneMinusBeta1: 'f32',
    oneMinusBeta2: 'f32',
    eps: 'f32',
    weightDecay: 'f32',
    /** 1 − β1^t and 1 − β2^t for this step t. */
    biasCorrection1: 'f32',
    biasCorrection2: 'f32',
    /** Clip the global gradient norm to this (0: no clipping). */
    maxGradNorm: 'f32',
  },
  bindings: {
    weights: 'read_write',
    grads: 'read',
    m: 'read_write',
    v: 'read_write',
    gradNormSq: { access: 'read', optional: true },
  },
  workgroupSize: OPTIM_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${k.main}
  var scale = 1.0;${
    k.has.gradNormSq
      ? `
  if (params.maxGradNorm > 0.0) {
    scale = min(1.0, params.maxGradNorm / (sqrt(gradNormSq[0]) + 1e-6));
  }`
      : ''
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
}`,
});

/** ema ← decay·ema + (1 − decay)·weights. */
export const emaKernel = defineKernel({
  name: 'ema',
  uniforms: { count: 'u32', decay: 'f32' },
  bindings: { ema: 'read_write', weights: 'read' },
  workgroupSize: OPTIM_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${k.main}
  ema[idx] = params.decay * ema[idx] + (1.0 - params.decay) * weights[idx];
}`,
});

/** The hyperparameters of one Adam step. */
export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: weight decay applied to the weights, not added to the gradient. */
  decoupledWeightDecay: boolean;
  /** The step number t ≥ 1 of the bias corrections 1 − β^t. */
  step: number;
  /** Clip the global L2 norm of the gradients to this (0: off; then gradNormSq is needed). */
  maxGradNorm: number;
}
