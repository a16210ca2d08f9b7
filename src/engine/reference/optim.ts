// Float64 references for the optimiser ops (src/engine/ops/optim.ts): one Adam/AdamW step as
// torch.optim.Adam(W) takes it, with global-norm clipping as torch.nn.utils.clip_grad_norm_,
// and the EMA of the weights.

import { refArray, type Ref } from './ndarray.ts';
import type { AdamStep } from '../../shaders/optim.ts';

/** The weights, m and v after one step from `grads`. */
export function refAdamUpdate(weights: Ref, grads: Ref, m: Ref, v: Ref, s: AdamStep): { weights: Ref; m: Ref; v: Ref } {
  const norm = Math.sqrt(grads.data.reduce((acc, g) => acc + g * g, 0));
  const scale = s.maxGradNorm > 0 ? Math.min(1, s.maxGradNorm / (norm + 1e-6)) : 1;
  const biasCorrection1 = 1 - s.beta1 ** s.step;
  const biasCorrection2 = 1 - s.beta2 ** s.step;
  const out = { weights: refArray(weights.shape), m: refArray(m.shape), v: refArray(v.shape) };
  for (let i = 0; i < weights.data.length; i++) {
    let p = weights.data[i]!;
    let g = grads.data[i]! * scale;
    if (s.decoupledWeightDecay) p -= s.lr * s.weightDecay * p;
    else g += s.weightDecay * p;
    const mNew = s.beta1 * m.data[i]! + (1 - s.beta1) * g;
    const vNew = s.beta2 * v.data[i]! + (1 - s.beta2) * g * g;
    const denom = Math.sqrt(vNew) / Math.sqrt(biasCorrection2) + s.eps;
    out.weights.data[i] = p - (s.lr / biasCorrection1) * (mNew / denom);
    out.m.data[i] = mNew;
    out.v.data[i] = vNew;
  }
  return out;
}

/** decay·ema + (1 − decay)·weights. */
export function refEmaUpdate(ema: Ref, weights: Ref, decay: number): Ref {
  const out = refArray(ema.shape);
  for (let i = 0; i < ema.data.length; i++) out.data[i] = decay * ema.data[i]! + (1 - decay) * weights.data[i]!;
  return out;
}
