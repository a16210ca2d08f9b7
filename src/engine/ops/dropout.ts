// dropout(x, p, seed): zeroes each element with probability p and scales the rest by 1/(1 − p)
// (inverted dropout); the mask is a hash of (seed, element index), so backward regenerates it.
// Kernel: src/shaders/dropout.ts. Reference: src/engine/reference/dropout.ts.
// Checks: src/engine/checks/dropout.ts.

import { dropoutKernel, dropoutKey, dropoutThreshold } from '../../shaders/dropout.ts';
import { mapScalar, valueOf, type Scalar } from '../live.ts';
import { record } from '../tape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { mulScalar } from './elementwise.ts';
import { launch } from './launch.ts';

export interface DropoutOptions {
  /** When false, dropout is the identity (evaluation mode). Default true. */
  training?: boolean;
}

function applyMask(x: Tensor, uniforms: { key: Scalar; threshold: number; scale: number }, origin: string): Tensor {
  const y = emptyTensor(x.shape, origin);
  launch(dropoutKernel, {}, { xs: x, ys: y }, { count: x.size, ...uniforms });
  return y;
}

/**
 * Returns x itself when not training or p = 0. `seed` (an integer in [0, 2³²)) picks the mask:
 * pass a new one per step, e.g. from the trainer's Rng (a live one in a captured step).
 */
export function dropout(x: Tensor, p: number, seed: Scalar, options: DropoutOptions = {}): Tensor {
  assertTensor('dropout', 'x', x);
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  const seedNow = valueOf(seed);
  if (!Number.isInteger(seedNow) || seedNow < 0 || seedNow >= 2 ** 32) {
    throw new Error(`dropout: seed must be an integer in [0, 2^32), got ${seedNow}`);
  }
  if (!(options.training ?? true) || p === 0) return x;
  if (p === 1) return mulScalar(x, 0);
  const uniforms = { key: mapScalar(seed, dropoutKey), threshold: dropoutThreshold(p), scale: 1 / (1 - p) };
  const y = applyMask(x, uniforms, 'dropout');
  return record(y, 'dropout', [x], (g) => [applyMask(g, uniforms, 'dropout-grad')]);
}
