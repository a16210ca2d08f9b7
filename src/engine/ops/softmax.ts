// softmax and logSoftmax over the last axis (numerically stable), with their backwards.
// Kernels: src/shaders/softmax.ts. Reference: src/engine/reference/softmax.ts.
// Checks: src/engine/checks/softmax.ts.

import { foldedGrid } from '../../shaders/common.ts';
import { softmaxGradKernel, softmaxGradRowKernel, softmaxKernel, softmaxRowKernel, type SoftmaxKind } from '../../shaders/softmax.ts';
import { record } from '../tape.ts';
import { fmt } from '../shape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';
import { runtime } from '../runtime.ts';

function rowsAndCols(op: string, x: Tensor): { rows: number; cols: number } {
  if (x.rank < 1) throw new Error(`${op}: x ${fmt(x.shape)} needs at least one axis`);
  const cols = x.shape[x.rank - 1]!;
  return { rows: cols === 0 ? 0 : x.size / cols, cols };
}

function rowwise(kind: SoftmaxKind, x: Tensor): Tensor {
  assertTensor(kind, 'x', x);
  const { rows, cols } = rowsAndCols(kind, x);
  const y = emptyTensor(x.shape, kind, x.dtype);
  // Chosen once, at the forward: its backward takes the same kind of kernel.
  const { softmaxThreadPerRow: perThread, subgroups } = runtime().tuning;
  if (rows > 0) {
    if (perThread) launch(softmaxRowKernel, { kind }, { xs: x, ys: y }, { rows, cols });
    else launch(softmaxKernel, { kind, subgroups }, { xs: x, ys: y }, { rows, cols }, foldedGrid(rows));
  }
  return record(y, kind, [x], (dy) => {
    const dx = emptyTensor(x.shape, `${kind}-grad`);
    if (rows > 0) {
      if (perThread) launch(softmaxGradRowKernel, { kind }, { ys: y, dys: dy, dxs: dx }, { rows, cols });
      else launch(softmaxGradKernel, { kind, subgroups }, { ys: y, dys: dy, dxs: dx }, { rows, cols }, foldedGrid(rows));
    }
    return [dx];
  });
}

/** exp(x − max) / Σ exp(x − max) along the last axis. */
export const softmax = (x: Tensor): Tensor => rowwise('softmax', x);

/** x − max − log Σ exp(x − max) along the last axis. */
export const logSoftmax = (x: Tensor): Tensor => rowwise('log-softmax', x);
