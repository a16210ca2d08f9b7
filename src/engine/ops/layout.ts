// Layout ops: reshape (a free view), permute/transpose, broadcastTo, slice and concat along any
// axis. All copies go through one strided-copy kernel (src/shaders/strided-copy.ts).
// Reference: src/engine/reference/layout.ts. Checks: src/engine/checks/layout.ts.

import { record } from '../tape.ts';
import { assertValidShape, fmt, normalizeAxis, sizeOf, stridesOf, type Shape } from '../shape.ts';
import { assertSameDtype, assertTensor, emptyTensor, viewOf, zeros, type Tensor } from '../tensor.ts';
import { broadcastToRaw, permuteAxes, permuteRaw, planSlice, sliceCopy, sliceRaw, stridedCopy } from './raw/layout.ts';
import { sumToRaw } from './raw/reduce.ts';

// Part of the public API (src/engine/index.ts re-exports this file).
export { stridedCopy };

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

/** Materialises x broadcast to `shape` (numpy rules). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const out = broadcastToRaw(x, shape);
  return record(out, 'broadcastTo', [x], (g) => [sumToRaw(g, x.shape)]);
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
  assertSameDtype('concat', Object.fromEntries(tensors.map((t, i) => [`tensors[${i}]`, t])));
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
  const out = emptyTensor(shape, 'concat', first.dtype);
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
