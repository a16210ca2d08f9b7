// Optimiser ops over flat parameter buffers (a ParameterArena's layout): the fused Adam/AdamW
// step with global-norm gradient clipping, the EMA of the weights, the squared global gradient
// norm, and the gathering of per-parameter gradients into one flat buffer. They update their
// tensors in place and record nothing (they are not differentiable).
// Kernels: src/shaders/optim.ts. Reference: src/engine/reference/optim.ts.
// Checks: src/engine/checks/optim.ts.

import { adamKernel, emaKernel, type AdamStep } from '../../shaders/optim.ts';
import { mapScalar, valueOf, type Scalar } from '../live.ts';
import { runtime } from '../runtime.ts';
import { fmt } from '../shape.ts';
import { assertTensor, type Tensor } from '../tensor.ts';
import { unaryRaw } from './raw/elementwise.ts';
import { launch } from './launch.ts';
import { sumRaw } from './raw/reduce.ts';

export type { AdamStep } from '../../shaders/optim.ts';

/** An Adam step whose rate and step count may be live (a captured training step reads them at each replay). */
export type LiveAdamStep = Omit<AdamStep, 'lr' | 'step'> & { lr: Scalar; step: Scalar };

function assertSameSize(op: string, tensors: readonly (readonly [string, Tensor])[]): void {
  const [firstName, first] = tensors[0]!;
  for (const [name, t] of tensors) {
    assertTensor(op, name, t);
    if (t.size !== first.size) {
      throw new Error(`${op}: ${name} ${fmt(t.shape)} has ${t.size} elements, ${firstName} ${fmt(first.shape)} has ${first.size}`);
    }
  }
}

/**
 * One Adam (or AdamW) step, in place: weights, m and v are updated from grads, as
 * torch.optim.Adam(W). With maxGradNorm > 0 the gradients are first scaled by
 * min(1, maxGradNorm / (‖g‖ + 1e-6)), where gradNormSq holds ‖g‖² (one element, e.g. from
 * sumOfSquares over all gradients).
 */
export function adamUpdate(
  weights: Tensor,
  grads: Tensor,
  m: Tensor,
  v: Tensor,
  s: LiveAdamStep,
  gradNormSq: Tensor | null = null,
): void {
  assertSameSize('adamUpdate', [
    ['weights', weights],
    ['grads', grads],
    ['m', m],
    ['v', v],
  ]);
  const stepNow = valueOf(s.step);
  if (!Number.isInteger(stepNow) || stepNow < 1) throw new Error(`adamUpdate: step must be an integer ≥ 1, got ${stepNow}`);
  if (s.maxGradNorm > 0) {
    if (gradNormSq === null) throw new Error('adamUpdate: clipping (maxGradNorm > 0) needs gradNormSq');
    assertTensor('adamUpdate', 'gradNormSq', gradNormSq);
    if (gradNormSq.size !== 1) throw new Error(`adamUpdate: gradNormSq ${fmt(gradNormSq.shape)} must hold one element`);
  }
  launch(
    adamKernel,
    {},
    // Σg² is read only when clipping.
    { weights, grads, m, v, gradNormSq: s.maxGradNorm > 0 ? gradNormSq : null },
    {
      count: weights.size,
      decoupled: s.decoupledWeightDecay ? 1 : 0,
      lr: s.lr,
      beta1: s.beta1,
      beta2: s.beta2,
      oneMinusBeta1: 1 - s.beta1,
      oneMinusBeta2: 1 - s.beta2,
      eps: s.eps,
      weightDecay: s.weightDecay,
      biasCorrection1: mapScalar(s.step, (step) => 1 - s.beta1 ** step),
      biasCorrection2: mapScalar(s.step, (step) => 1 - s.beta2 ** step),
      maxGradNorm: s.maxGradNorm,
    },
  );
}

/** ema ← decay·ema + (1 − decay)·weights, in place. */
export function emaUpdate(ema: Tensor, weights: Tensor, decay: Scalar): void {
  assertSameSize('emaUpdate', [
    ['ema', ema],
    ['weights', weights],
  ]);
  const decayNow = valueOf(decay);
  if (!(decayNow >= 0 && decayNow <= 1)) throw new Error(`emaUpdate: decay must be in [0, 1], got ${decayNow}`);
  launch(emaKernel, {}, { ema, weights }, { count: ema.size, decay });
}

/** Σ x² over all elements, as a one-element tensor (not recorded). */
export function sumOfSquares(x: Tensor): Tensor {
  assertTensor('sumOfSquares', 'x', x);
  const squares = unaryRaw('square', x, 1, 0);
  const total = sumRaw(squares);
  squares.dispose();
  return total;
}

/** A region of a flat buffer: `size` elements from element `offset`, filled from `grad`. */
export interface GradientRegion {
  offset: number;
  size: number;
  /** Copied into the region; null: the region is zeroed. */
  grad: Tensor | null;
}

/** Copies each gradient into its region of `flat` (zeros where it has none), on the shared encoder. */
export function gatherGradients(flat: Tensor, regions: readonly GradientRegion[]): void {
  assertTensor('gatherGradients', 'flat', flat);
  const d = runtime().dispatcher;
  const to = flat.storage;
  for (const [i, r] of regions.entries()) {
    if (r.offset < 0 || r.offset + r.size > flat.size) {
      throw new Error(`gatherGradients: region ${i} [${r.offset}, ${r.offset + r.size}) lies outside flat ${fmt(flat.shape)}`);
    }
    if (r.grad) {
      assertTensor('gatherGradients', `regions[${i}].grad`, r.grad);
      if (r.grad.size !== r.size) {
        throw new Error(`gatherGradients: regions[${i}].grad ${fmt(r.grad.shape)} does not fill its ${r.size} elements`);
      }
      const from = r.grad.storage;
      d.copy(from.buffer, from.offset, to.buffer, to.offset + r.offset * 4, r.size * 4);
    } else {
      d.clear(to.buffer, to.offset + r.offset * 4, r.size * 4);
    }
  }
}
