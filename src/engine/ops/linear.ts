// linear(x, w, b): y = x wᵀ + b over the last axis of x, with PyTorch's weight layout
// w [out, in]: one matmul with the bias in its epilogue; the backward is two matmuls and the
// bias's sum over rows.
// Reference: src/engine/reference/linear.ts. Checks: src/engine/checks/linear.ts.

import { fmt } from '../shape.ts';
import { record } from '../tape.ts';
import { assertSameDtype, assertTensor, type Tensor } from '../tensor.ts';
import { reshape } from './layout.ts';
import { matmul, matmulRaw } from './matmul.ts';
import { sumRaw } from './raw/reduce.ts';

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
  const y = b === null ? matmul(rows, w, { transposeB: true }) : biased(rows, w, b);
  return x.rank === 2 ? y : reshape(y, [...lead, outFeatures]);
}

/** rows [M, in] · wᵀ + b, the bias added in the matmul's epilogue. */
function biased(rows: Tensor, w: Tensor, b: Tensor): Tensor {
  const y = matmulRaw(rows, w, false, true, b);
  return record(y, 'linear', [rows, w, b], (g) => [
    rows.requiresGrad ? matmulRaw(g, w, false, false) : null,
    w.requiresGrad ? matmulRaw(g, rows, true, false) : null,
    b.requiresGrad ? sumRaw(g, [0]) : null,
  ]);
}
