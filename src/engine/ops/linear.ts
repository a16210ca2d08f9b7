// linear(x, w, b): y = x wᵀ + b over the last axis of x, with PyTorch's weight layout
// w [out, in]. Composed from matmul and add, so autodiff supplies the backward.
// Reference: src/engine/reference/linear.ts. Checks: src/engine/checks/linear.ts.

import { fmt } from '../shape.ts';
import { assertSameDtype, assertTensor, type Tensor } from '../tensor.ts';
import { add } from './elementwise.ts';
import { reshape } from './layout.ts';
import { matmul } from './matmul.ts';

/** x [..., in], w [out, in], b [out] or null → [..., out]. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  assertTensor('linear', 'x', x);
  assertTensor('linear', 'w', w);
  if (w.rank !== 2) throw new Error(`linear: w ${fmt(w.shape)} must be [out, in]`);
  const [outFeatures, inFeatures] = w.shape as [number, number];
  if (x.rank < 1 || x.shape[x.rank - 1] !== inFeatures) {
    throw new Error(`linear: x ${fmt(x.shape)} must end in ${inFeatures} features to match w ${fmt(w.shape)}`);
  }
  assertSameDtype('linear', { x, w, b });
  if (b !== null) {
    assertTensor('linear', 'b', b);
    if (b.rank !== 1 || b.shape[0] !== outFeatures) {
      throw new Error(`linear: b ${fmt(b.shape)} must be [${outFeatures}] to match w ${fmt(w.shape)}`);
    }
  }
  // One 2-D matmul over all leading positions: w's gradient then needs no batch reduction.
  const lead = x.shape.slice(0, -1);
  const rows = x.rank === 2 ? x : reshape(x, [-1, inFeatures]);
  const product = matmul(rows, w, { transposeB: true });
  const y = b === null ? product : add(product, b);
  return x.rank === 2 ? y : reshape(y, [...lead, outFeatures]);
}
