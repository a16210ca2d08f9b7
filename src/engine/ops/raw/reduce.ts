// Non-recording launchers: what forward passes and backward rules encode; they record nothing on the tape.

import { foldedGrid } from '../../../shaders/common.ts';
import {
  REDUCE_WORKGROUP,
  reduceSumKernel,
  reduceSumLeadingKernel,
  reduceSumMiddleKernel,
  reduceSumVec4Kernel,
  reduceSumWorkgroupKernel,
} from '../../../shaders/reduce.ts';
import { collapseDims } from '../../collapse.ts';
import { fmt, normalizeAxes, sameShape, sizeOf, stridesOf, type Shape } from '../../shape.ts';
import { assertTensor, emptyTensor, viewOf, type Tensor } from '../../tensor.ts';
import { launch } from '../launch.ts';
import { runtime } from '../../runtime.ts';

/** Each lane sums at least this many elements. */
const MIN_PER_LANE = 16;
/** A sum over leading axes adds at most this many rows serially per column (more: in lanes). */
const LEADING_MAX_ROWS = 64;
/** Outputs a one-pass sum of leading and trailing axes needs (each is a thread or a workgroup's). */
const MIDDLE_MIN_OUTPUTS = 8;
/** A trailing run of reduced elements at least this long is summed in a pass of its own first. */
const MIN_TRAILING_RUN = 16;

/** Sums `x` over the sorted axes `axes` into a tensor of the kept axes, times `scale`. */
export function reduceSumRaw(x: Tensor, axes: readonly number[], scale: number): Tensor {
  const strides = stridesOf(x.shape);
  const kept = [...Array(x.rank).keys()].filter((a) => !axes.includes(a));
  const keptShape = kept.map((a) => x.shape[a]!);
  const redShape = axes.map((a) => x.shape[a]!);
  const outCount = sizeOf(keptShape);
  const redCount = sizeOf(redShape);
  const contiguous = axes.every((a, i) => a === x.rank - axes.length + i);
  // Trailing reduced axes first (a contiguous, vec4 sum), then the others over the smaller result:
  // the strided kernel does index arithmetic (divisions, slow on SwiftShader) per element and
  // reads scattered on a GPU. A conv's bias gradient, [N, C, H, W] over (0, 2, 3), is such a sum.
  let trailing = 0;
  while (trailing < axes.length && axes[axes.length - 1 - trailing] === x.rank - 1 - trailing) trailing++;
  const leading = axes.length - trailing;
  const inner = sizeOf(x.shape.slice(x.rank - trailing));
  // Leading and trailing axes around a kept middle ([N, C, H·W] over N and H·W), or trailing ones
  // only where the lanes would need a second pass: one pass, an output per thread or workgroup
  // (enough outputs to fill the adapter that way).
  const middle = outCount >= MIDDLE_MIN_OUTPUTS && trailing > 0 && inner > 0 && inner % 4 === 0 && axes.every((a, i) => a === i || i >= leading);
  if (middle && (leading > 0 || outCount < runtime().tuning.reduceTargetItems)) {
    const out = emptyTensor(keptShape, 'sum');
    const workgroupTree = !runtime().tuning.reduceChunked;
    const uniforms = { outputs: outCount, outer: sizeOf(redShape) / inner, innerQuads: inner / 4, scale };
    launch(reduceSumMiddleKernel, { workgroupTree }, { xs: x, out }, uniforms, foldedGrid(workgroupTree ? outCount : Math.ceil(outCount / REDUCE_WORKGROUP)));
    return out;
  }
  if (outCount > 0 && !contiguous && trailing > 0 && sizeOf(x.shape.slice(x.rank - trailing)) >= MIN_TRAILING_RUN) {
    const inner = reduceSumRaw(x, axes.slice(axes.length - trailing), 1);
    const total = reduceSumRaw(inner, axes.slice(0, axes.length - trailing), scale);
    inner.dispose();
    return total;
  }
  const out = emptyTensor(keptShape, 'sum');
  if (outCount === 0) return out;
  // Leading axes only, few rows or many columns: one vec4 column per invocation (split-K slabs).
  const quads = outCount / 4;
  if (axes.every((a, i) => a === i) && outCount % 4 === 0 && (redCount <= LEADING_MAX_ROWS || quads >= runtime().tuning.reduceTargetItems)) {
    launch(reduceSumLeadingKernel, {}, { xs: x, out }, { quads, rows: redCount, scale });
    return out;
  }
  // Enough parallel items to fill the adapter (tuning.ts), then more elements per lane.
  const target = runtime().tuning.reduceTargetItems;
  const lanes = Math.max(1, Math.min(Math.floor(redCount / MIN_PER_LANE), Math.ceil(target / outCount)));
  const t = runtime().tuning;
  if (contiguous && redCount % 4 === 0 && !t.reduceChunked && t.subgroups && lanes >= REDUCE_WORKGROUP) {
    return reduceByWorkgroups(x, out, keptShape, redCount, lanes, scale);
  }
  const partials = lanes > 1 ? emptyTensor([outCount, lanes], 'sum-partials') : out;
  const items = outCount * lanes;
  const scaleNow = lanes > 1 ? 1 : scale;
  if (contiguous && redCount % 4 === 0) {
    const chunked = t.reduceChunked;
    launch(reduceSumVec4Kernel, { chunked }, { xs: x, out: partials }, { items, redCount, lanes, scale: scaleNow });
  } else {
    // Kept axes must stay in output (row-major) order; reduced ones only need the input strides.
    const k = collapseDims(keptShape, [kept.map((a) => strides[a]!), stridesOf(keptShape)]);
    const r = collapseDims(redShape, [axes.map((a) => strides[a]!)]);
    launch(
      reduceSumKernel,
      { contiguous, keptRank: contiguous ? 0 : k.shape.length, redRank: contiguous ? 0 : r.shape.length },
      { xs: x, out: partials },
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
        scale: scaleNow,
      },
    );
  }
  if (lanes === 1) return out;
  out.dispose();
  const total = reduceSumRaw(partials, [1], scale);
  partials.dispose();
  return viewAs(total, keptShape);
}

/**
 * The interleaved contiguous sum on a device with subgroups: whole workgroups of lanes per
 * output, each workgroup writing one partial sum (reduceSumWorkgroupKernel).
 */
function reduceByWorkgroups(x: Tensor, out: Tensor, keptShape: Shape, redCount: number, lanes: number, scale: number): Tensor {
  const outCount = out.size;
  const perOutput = Math.floor(lanes / REDUCE_WORKGROUP);
  const workgroups = outCount * perOutput;
  const partials = perOutput > 1 ? emptyTensor([outCount, perOutput], 'sum-partials') : out;
  const uniforms = { workgroups, redCount, lanes: perOutput * REDUCE_WORKGROUP, scale: perOutput > 1 ? 1 : scale };
  launch(reduceSumWorkgroupKernel, {}, { xs: x, out: partials }, uniforms, foldedGrid(workgroups));
  if (perOutput === 1) return out;
  out.dispose();
  const total = reduceSumRaw(partials, [1], scale);
  partials.dispose();
  return viewAs(total, keptShape);
}

/** `t` viewed as `shape` (same element count), disposing `t` when a new view is made. */
export function viewAs(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const v = viewOf(t, shape, t.origin);
  t.dispose();
  return v;
}

export interface ReducePlan {
  axes: number[];
  scale: number;
  outShape: Shape;
}

/** Parses the axes of a sum or mean: the sorted axes, the scale, and the output shape. */
export function planReduce(
  op: 'sum' | 'mean',
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepdim: boolean,
): ReducePlan {
  assertTensor(op, 'x', x);
  const ax = normalizeAxes(op, axes, x.rank);
  const n = sizeOf(ax.map((a) => x.shape[a]!));
  const scale = op === 'mean' ? 1 / Math.max(1, n) : 1;
  const outShape = keepdim ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  return { axes: ax, scale, outShape };
}

/** sum without recording (for backward rules and other kernels' glue). */
export function sumRaw(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const p = planReduce('sum', x, axes, keepdim);
  return viewAs(reduceSumRaw(x, p.axes, 1), p.outShape);
}

/** The axes that sum `x` down to `shape`. */
export function sumToAxes(x: Tensor, shape: Shape): number[] {
  assertTensor('sumTo', 'x', x);
  const offset = x.rank - shape.length;
  if (offset < 0) throw new Error(`sumTo: x ${fmt(x.shape)} has lower rank than target ${fmt(shape)}`);
  const axes: number[] = [];
  x.shape.forEach((d, i) => {
    const t = i < offset ? undefined : shape[i - offset];
    if (t === undefined || (t === 1 && d !== 1)) axes.push(i);
    else if (t !== d) throw new Error(`sumTo: x ${fmt(x.shape)} does not broadcast from ${fmt(shape)}`);
  });
  return axes;
}

/** sumTo without recording: what backward rules reduce broadcast gradients with. */
export function sumToRaw(x: Tensor, shape: Shape): Tensor {
  return viewAs(reduceSumRaw(x, sumToAxes(x, shape), 1), shape);
}
