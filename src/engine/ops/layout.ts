// Layout ops: reshape (a free view), permute/transpose, broadcastTo, slice and concat along any
// axis. All copies go through one strided-copy kernel (src/shaders/strided-copy.ts).
// Reference: src/engine/reference/layout.ts. Checks: src/engine/checks/layout.ts.

import { stridedCopyKernel } from '../../shaders/strided-copy.ts';
import { record } from '../tape.ts';
import { collapseDims } from '../collapse.ts';
import {
  assertValidShape,
  broadcastShapes,
  broadcastStrides,
  fmt,
  normalizeAxis,
  sameShape,
  sizeOf,
  stridesOf,
  type Shape,
} from '../shape.ts';
import { assertTensor, emptyTensor, viewOf, zeros, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';
import { sumToRaw } from './reduce.ts';

/** Copies a block of `block` elements between two tensors' buffers through strides. */
export function stridedCopy(
  src: Tensor,
  dst: Tensor,
  block: Shape,
  srcStrides: readonly number[],
  srcOffset: number,
  dstStrides: readonly number[],
  dstOffset: number,
): void {
  const count = sizeOf(block);
  const c = collapseDims(block, [srcStrides, dstStrides]);
  const rank = c.shape.length;
  launch(
    stridedCopyKernel,
    { rank },
    { src, dst },
    { blockShape: c.shape, srcStrides: c.strides[0]!, dstStrides: c.strides[1]!, rank, count, srcOffset, dstOffset },
  );
}

/** A view with another shape of the same size; one entry may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  assertTensor('reshape', 'x', x);
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new Error(`reshape: only one dimension may be -1, got ${fmt(shape)}`);
  let target = [...shape];
  if (inferred === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot infer -1 in ${fmt(shape)} from x ${fmt(x.shape)} (${x.size} elements)`);
    }
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  assertValidShape('reshape', target);
  if (sizeOf(target) !== x.size) {
    throw new Error(`reshape: x ${fmt(x.shape)} has ${x.size} elements, shape ${fmt(shape)} needs ${sizeOf(target)}`);
  }
  const out = viewOf(x, target, 'reshape');
  return record(out, 'reshape', [x], (g) => [viewOf(g, x.shape, 'reshape-grad')]);
}

export const flatten = (x: Tensor): Tensor => reshape(x, [x.size]);

function permuteAxes(x: Tensor, perm: readonly number[]): number[] {
  assertTensor('permute', 'x', x);
  if (perm.length !== x.rank) {
    throw new Error(`permute: perm ${JSON.stringify(perm)} has ${perm.length} entries for x ${fmt(x.shape)}`);
  }
  const axes = perm.map((p) => normalizeAxis('permute', p, x.rank));
  if (new Set(axes).size !== axes.length) throw new Error(`permute: perm ${JSON.stringify(perm)} repeats an axis`);
  return axes;
}

/** permute without recording (for backward rules and kernels' operand packing). */
export function permuteRaw(x: Tensor, perm: readonly number[]): Tensor {
  const axes = permuteAxes(x, perm);
  const shape = axes.map((a) => x.shape[a]!);
  const xStrides = stridesOf(x.shape);
  const out = emptyTensor(shape, 'permute');
  stridedCopy(x, out, shape, axes.map((a) => xStrides[a]!), 0, stridesOf(shape), 0);
  return out;
}

/** Reorders axes: output axis i is input axis perm[i]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const axes = permuteAxes(x, perm);
  const out = permuteRaw(x, axes);
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, i) => (inverse[a] = i));
  return record(out, 'permute', [x], (g) => [permuteRaw(g, inverse)]);
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, axisA = -2, axisB = -1): Tensor {
  assertTensor('transpose', 'x', x);
  if (x.rank < 2 && (axisA === -2 || axisB === -2)) {
    throw new Error(`transpose: x ${fmt(x.shape)} has fewer than 2 axes`);
  }
  const a = normalizeAxis('transpose', axisA, x.rank);
  const b = normalizeAxis('transpose', axisB, x.rank);
  const perm = [...Array(x.rank).keys()];
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** broadcastTo without recording. */
export function broadcastToRaw(x: Tensor, shape: Shape): Tensor {
  assertTensor('broadcastTo', 'x', x);
  assertValidShape('broadcastTo', shape);
  const full = broadcastShapes('broadcastTo', x.shape, shape, ['x', 'shape']);
  if (!sameShape(full, shape)) throw new Error(`broadcastTo: x ${fmt(x.shape)} cannot be broadcast to ${fmt(shape)}`);
  const out = emptyTensor(shape, 'broadcastTo');
  stridedCopy(x, out, shape, broadcastStrides(x.shape, shape), 0, stridesOf(shape), 0);
  return out;
}

/** Materialises x broadcast to `shape` (numpy rules). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const out = broadcastToRaw(x, shape);
  return record(out, 'broadcastTo', [x], (g) => [sumToRaw(g, x.shape)]);
}

interface SlicePlan {
  shape: number[];
  xStrides: number[];
  /** Element offset of the slice's first element in x. */
  offset: number;
}

function planSlice(x: Tensor, axis: number, start: number, end?: number): SlicePlan {
  assertTensor('slice', 'x', x);
  const ax = normalizeAxis('slice', axis, x.rank);
  const n = x.shape[ax]!;
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
    throw new Error(`slice: range [${start}, ${end ?? n}) is out of bounds for axis ${axis} of x ${fmt(x.shape)}`);
  }
  const shape = [...x.shape];
  shape[ax] = e - s;
  const xStrides = stridesOf(x.shape);
  return { shape, xStrides, offset: s * xStrides[ax]! };
}

function sliceCopy(x: Tensor, p: SlicePlan): Tensor {
  const out = emptyTensor(p.shape, 'slice');
  stridedCopy(x, out, p.shape, p.xStrides, p.offset, stridesOf(p.shape), 0);
  return out;
}

/** slice without recording. */
export function sliceRaw(x: Tensor, axis: number, start: number, end?: number): Tensor {
  return sliceCopy(x, planSlice(x, axis, start, end));
}

/** Elements start..end-1 along `axis` (negative indices count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const p = planSlice(x, axis, start, end);
  const out = sliceCopy(x, p);
  return record(out, 'slice', [x], (g) => {
    const gx = zeros(x.shape);
    stridedCopy(g, gx, p.shape, stridesOf(p.shape), 0, p.xStrides, p.offset);
    return [gx];
  });
}

/** Joins tensors along `axis`; all other axes must match. */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  if (tensors.length === 0) throw new Error('concat: needs at least one tensor');
  tensors.forEach((t, i) => assertTensor('concat', `tensors[${i}]`, t));
  const first = tensors[0]!;
  const ax = normalizeAxis('concat', axis, first.rank);
  tensors.forEach((t, i) => {
    const ok = t.rank === first.rank && t.shape.every((d, k) => k === ax || d === first.shape[k]);
    if (!ok) {
      throw new Error(
        `concat: tensors[${i}] ${fmt(t.shape)} does not match tensors[0] ${fmt(first.shape)} outside axis ${axis}`,
      );
    }
  });
  const shape = [...first.shape];
  shape[ax] = tensors.reduce((n, t) => n + t.shape[ax]!, 0);
  const out = emptyTensor(shape, 'concat');
  const outStrides = stridesOf(shape);
  const offsets: number[] = [];
  let at = 0;
  for (const t of tensors) {
    offsets.push(at);
    stridedCopy(t, out, t.shape, stridesOf(t.shape), 0, outStrides, at * outStrides[ax]!);
    at += t.shape[ax]!;
  }
  return record(out, 'concat', tensors, (g) =>
    tensors.map((t, i) => (t.requiresGrad ? sliceRaw(g, ax, offsets[i]!, offsets[i]! + t.shape[ax]!) : null)),
  );
}
