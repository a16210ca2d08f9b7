// Reductions: sum and mean over any axes (keepdim), and sumTo for broadcast gradients.
// Kernel: src/shaders/reduce.ts. Reference: src/engine/reference/reduce.ts.
// Checks: src/engine/checks/reduce.ts.

import { record } from '../tape.ts';
import type { Shape } from '../shape.ts';
import { viewOf, type Tensor } from '../tensor.ts';
import { unaryRaw } from './raw/elementwise.ts';
import { broadcastToRaw } from './raw/layout.ts';
import { planReduce, reduceSumRaw, sumToAxes, viewAs } from './raw/reduce.ts';

/** Sums over `axes`, scales, and views the result as `outShape` (same element count). */
function reduceInto(op: string, x: Tensor, axes: readonly number[], scale: number, outShape: Shape): Tensor {
  const keptDimsShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = viewAs(reduceSumRaw(x, axes, scale), outShape);
  return record(out, op, [x], (g) => {
    const g1 = viewOf(g, keptDimsShape, `${op}-grad`);
    const spread = broadcastToRaw(g1, x.shape);
    g1.dispose();
    if (scale === 1) return [spread];
    const scaled = unaryRaw('affine', spread, scale, 0);
    spread.dispose();
    return [scaled];
  });
}

function reduceOp(
  op: 'sum' | 'mean',
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepdim: boolean,
): Tensor {
  const p = planReduce(op, x, axes, keepdim);
  return reduceInto(op, x, p.axes, p.scale, p.outShape);
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return reduceOp('sum', x, axes, keepdim);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return reduceOp('mean', x, axes, keepdim);
}

/** Sums `x` down to `shape`, the inverse of numpy broadcasting (for gradients). */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  return reduceInto('sumTo', x, sumToAxes(x, shape), 1, shape);
}
