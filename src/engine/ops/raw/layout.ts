// Non-recording launchers: what forward passes and backward rules encode; they record nothing on the tape.

import { type CopyRun, stridedCopyKernel, TRANSPOSE_TILE, transposeTiledKernel } from '../../../shaders/strided-copy.ts';
import { runtime } from '../../runtime.ts';
import { collapseDims } from '../../collapse.ts';
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
} from '../../shape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../../tensor.ts';
import { launch } from '../launch.ts';

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
  if (count > 0 && runtime().tuning.transposeTiled && isTranspose(c.shape, c.strides[0]!, c.strides[1]!)) {
    const [batch, rows, cols] = rank === 3 ? c.shape : [1, ...c.shape];
    const [srcStrideBatch, , srcStrideCol] = rank === 3 ? c.strides[0]! : [0, ...c.strides[0]!];
    const [dstStrideBatch, dstStrideRow] = rank === 3 ? c.strides[1]! : [0, ...c.strides[1]!];
    launch(
      transposeTiledKernel,
      {},
      { src, dst },
      { rows: rows!, cols: cols!, srcStrideBatch: srcStrideBatch!, srcStrideCol: srcStrideCol!, dstStrideBatch: dstStrideBatch!, dstStrideRow: dstStrideRow!, srcOffset, dstOffset },
      [Math.ceil(cols! / TRANSPOSE_TILE), Math.ceil(rows! / TRANSPOSE_TILE), batch!],
    );
    return;
  }
  // Runs of 4 along a contiguous innermost dst axis (a copy or a broadcast of it): a quarter of
  // the invocations, each doing the index arithmetic once.
  const last = rank - 1;
  const inner = c.shape[last] ?? 0;
  const srcInner = c.strides[0]![last];
  const run: CopyRun = rank > 0 && inner % 4 === 0 && c.strides[1]![last] === 1 && (srcInner === 1 || srcInner === 0) ? (srcInner === 1 ? 'copy4' : 'broadcast4') : 'one';
  const runStrides = (strides: readonly number[]) => strides.map((st, i) => (i === last ? st * 4 : st));
  launch(
    stridedCopyKernel,
    { rank, run },
    { src, dst },
    run === 'one'
      ? { blockShape: c.shape, srcStrides: c.strides[0]!, dstStrides: c.strides[1]!, rank, count, srcOffset, dstOffset }
      : {
          blockShape: c.shape.map((d, i) => (i === last ? d / 4 : d)),
          srcStrides: runStrides(c.strides[0]!),
          dstStrides: runStrides(c.strides[1]!),
          rank,
          count: count / 4,
          srcOffset,
          dstOffset,
        },
  );
}

/**
 * Whether a collapsed block [rows, cols] or [batch, rows, cols] is a transpose: rows contiguous
 * in src, columns contiguous in dst (the tiled kernel's case), within the grid's batch limit.
 */
function isTranspose(shape: readonly number[], src: readonly number[], dst: readonly number[]): boolean {
  const r = shape.length;
  if (r !== 2 && r !== 3) return false;
  if (r === 3 && shape[0]! > 65535) return false;
  return src[r - 2] === 1 && dst[r - 1] === 1 && shape[r - 2]! > 1 && shape[r - 1]! > 1;
}

/** Checks `perm` against x and normalises its (possibly negative) axes. */
export function permuteAxes(x: Tensor, perm: readonly number[]): number[] {
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
  const out = emptyTensor(shape, 'permute', x.dtype);
  stridedCopy(x, out, shape, axes.map((a) => xStrides[a]!), 0, stridesOf(shape), 0);
  return out;
}

/** broadcastTo without recording. */
export function broadcastToRaw(x: Tensor, shape: Shape): Tensor {
  assertTensor('broadcastTo', 'x', x);
  assertValidShape('broadcastTo', shape);
  const full = broadcastShapes('broadcastTo', x.shape, shape, ['x', 'shape']);
  if (!sameShape(full, shape)) throw new Error(`broadcastTo: x ${fmt(x.shape)} cannot be broadcast to ${fmt(shape)}`);
  const out = emptyTensor(shape, 'broadcastTo', x.dtype);
  stridedCopy(x, out, shape, broadcastStrides(x.shape, shape), 0, stridesOf(shape), 0);
  return out;
}

export interface SlicePlan {
  shape: number[];
  xStrides: number[];
  /** Element offset of the slice's first element in x. */
  offset: number;
}

/** Checks a slice of x along `axis` and resolves its range into a shape, strides and offset. */
export function planSlice(x: Tensor, axis: number, start: number, end?: number): SlicePlan {
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

/** Copies the planned slice of x into a new tensor. */
export function sliceCopy(x: Tensor, p: SlicePlan): Tensor {
  const out = emptyTensor(p.shape, 'slice', x.dtype);
  stridedCopy(x, out, p.shape, p.xStrides, p.offset, stridesOf(p.shape), 0);
  return out;
}

/** slice without recording. */
export function sliceRaw(x: Tensor, axis: number, start: number, end?: number): Tensor {
  return sliceCopy(x, planSlice(x, axis, start, end));
}
