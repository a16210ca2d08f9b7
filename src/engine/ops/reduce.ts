// Reductions: sum and mean over any axes (keepdim), and sumTo for broadcast gradients.
// Kernel: src/shaders/reduce.ts. Reference: src/engine/reference/reduce.ts.
// Checks: src/engine/checks/reduce.ts.

import { REDUCE_WORKGROUP, reduceSumKernel } from '../../shaders/reduce.ts';
import { record } from '../tape.ts';
import { collapseDims } from '../collapse.ts';
import { fmt, normalizeAxes, sameShape, sizeOf, stridesOf, type Shape } from '../shape.ts';
import { assertTensor, emptyTensor, viewOf, type Tensor } from '../tensor.ts';
import { affine } from './elementwise.ts';
import { broadcastTo } from './layout.ts';
import { launchLinear } from './launch.ts';

/** Enough parallel items to fill the GPU; each lane then sums at least this many elements. */
const TARGET_ITEMS = 16384;
const MIN_PER_LANE = 16;

/** Sums `x` over the sorted axes `axes` into a tensor of the kept axes, times `scale`. */
function reduceSumRaw(x: Tensor, axes: readonly number[], scale: number): Tensor {
  const strides = stridesOf(x.shape);
  const kept = [...Array(x.rank).keys()].filter((a) => !axes.includes(a));
  const keptShape = kept.map((a) => x.shape[a]!);
  const redShape = axes.map((a) => x.shape[a]!);
  const outCount = sizeOf(keptShape);
  const redCount = sizeOf(redShape);
  const out = emptyTensor(keptShape, 'sum');
  if (outCount === 0) return out;
  const lanes = Math.max(1, Math.min(Math.floor(redCount / MIN_PER_LANE), Math.ceil(TARGET_ITEMS / outCount)));
  const contiguous = axes.every((a, i) => a === x.rank - axes.length + i);
  const target = lanes > 1 ? emptyTensor([outCount, lanes], 'sum-partials') : out;
  const items = outCount * lanes;
  // Kept axes must stay in output (row-major) order; reduced ones only need the input strides.
  const k = collapseDims(keptShape, [kept.map((a) => strides[a]!), stridesOf(keptShape)]);
  const r = collapseDims(redShape, [axes.map((a) => strides[a]!)]);
  const ranks = contiguous ? null : { kept: k.shape.length, reduced: r.shape.length };
  launchLinear(
    ranks ? `reduce-sum:k${ranks.kept}:r${ranks.reduced}` : 'reduce-sum:contiguous',
    () => reduceSumKernel(ranks),
    {
      keptShape: k.shape,
      keptStrides: k.strides[0]!,
      redShape: r.shape,
      redStrides: r.strides[0]!,
      keptRank: k.shape.length,
      redRank: r.shape.length,
      items,
      redCount,
      lanes,
      scale: lanes > 1 ? 1 : scale,
    },
    [x.buffer, target.buffer],
    items,
    REDUCE_WORKGROUP,
  );
  if (lanes === 1) return out;
  out.dispose();
  const total = reduceSumRaw(target, [1], scale);
  target.dispose();
  return viewAs(total, keptShape);
}

function viewAs(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const v = viewOf(t, shape, t.origin);
  t.dispose();
  return v;
}

/** Sums over `axes`, scales, and views the result as `outShape` (same element count). */
function reduceInto(op: string, x: Tensor, axes: readonly number[], scale: number, outShape: Shape): Tensor {
  const keptDimsShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = viewAs(reduceSumRaw(x, axes, scale), outShape);
  return record(out, op, [x], (g) => {
    const g1 = viewOf(g, keptDimsShape, `${op}-grad`);
    const spread = broadcastTo(g1, x.shape);
    g1.dispose();
    if (scale === 1) return [spread];
    const scaled = affine(spread, scale, 0);
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
  assertTensor(op, 'x', x);
  const ax = normalizeAxes(op, axes, x.rank);
  const n = sizeOf(ax.map((a) => x.shape[a]!));
  const scale = op === 'mean' ? 1 / Math.max(1, n) : 1;
  const outShape = keepdim ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  return reduceInto(op, x, ax, scale, outShape);
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
  assertTensor('sumTo', 'x', x);
  const offset = x.rank - shape.length;
  if (offset < 0) throw new Error(`sumTo: x ${fmt(x.shape)} has lower rank than target ${fmt(shape)}`);
  const axes: number[] = [];
  x.shape.forEach((d, i) => {
    const t = i < offset ? undefined : shape[i - offset];
    if (t === undefined || (t === 1 && d !== 1)) axes.push(i);
    else if (t !== d) throw new Error(`sumTo: x ${fmt(x.shape)} does not broadcast from ${fmt(shape)}`);
  });
  return reduceInto('sumTo', x, axes, 1, shape);
}
