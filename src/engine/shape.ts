// Shape arithmetic and the checks that run before anything is encoded.

import { MAX_RANK } from '../shaders/common.ts';

export type Shape = readonly number[];

export const fmt = (s: Shape): string => `[${s.join(',')}]`;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function assertValidShape(op: string, shape: Shape, what = 'shape'): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${op}: ${what} ${JSON.stringify(shape)} must be a list of non-negative integers`);
  }
  if (shape.length > MAX_RANK) throw new Error(`${op}: ${what} ${fmt(shape)} has rank > ${MAX_RANK}`);
}

/** numpy broadcasting of two shapes; the error names the op and both arguments. */
export function broadcastShapes(op: string, a: Shape, b: Shape, names: [string, string] = ['a', 'b']): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: cannot broadcast ${names[0]} ${fmt(a)} with ${names[1]} ${fmt(b)} (axis ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides for reading `shape` as if broadcast to `target` (0 along broadcast axes). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = stridesOf(shape);
  const offset = target.length - shape.length;
  return target.map((_, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : own[j]!;
  });
}

/** Normalises possibly negative axes, checking range and duplicates. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`${op}: axis ${a} is out of range for rank ${rank}`);
    }
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) throw new Error(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return out.sort((x, y) => x - y);
}

export function normalizeAxis(op: string, axis: number, rank: number): number {
  return normalizeAxes(op, axis, rank)[0]!;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Padding of a 2-D window: one value for every side, [vertical, horizontal], or [top, bottom, left, right]. */
export type Conv2dPadding = number | readonly [number, number] | readonly [number, number, number, number];

export interface Conv2dOptions {
  stride?: number;
  padding?: Conv2dPadding;
}

/** Padding as [top, bottom, left, right], checked; the error names the op. */
export function normalizeConvPadding(op: string, padding: Conv2dPadding): [number, number, number, number] {
  const p: number[] =
    typeof padding === 'number'
      ? [padding, padding, padding, padding]
      : padding.length === 2
        ? [padding[0], padding[0], padding[1], padding[1]]
        : [...padding];
  if (p.length !== 4 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(
      `${op}: padding ${JSON.stringify(padding)} must be a non-negative integer, [ph, pw] or [top, bottom, left, right]`,
    );
  }
  return p as [number, number, number, number];
}

/**
 * Output length of a sliding window along one axis: PyTorch's formula
 * ⌊(size + padBefore + padAfter − kernel) / stride⌋ + 1, with the padding of each side given.
 */
export function convOutputSize(size: number, kernel: number, stride: number, padBefore: number, padAfter = padBefore): number {
  return Math.floor((size + padBefore + padAfter - kernel) / stride) + 1;
}

/**
 * [N, Cout, outH, outW] of conv2d(x [N,Cin,H,W], w [Cout,Cin,kh,kw], {stride, padding}), after
 * checking every argument; the errors name `op`, the argument and the shapes. The one place the
 * conv's output size is computed: the op (ops/conv2d.ts) and the model's plan both use it.
 */
export function conv2dOutputShape(
  xShape: Shape,
  wShape: Shape,
  options: Conv2dOptions,
  op = 'conv2d',
): [number, number, number, number] {
  if (xShape.length !== 4) throw new Error(`${op}: x must be [N,Cin,H,W], got ${fmt(xShape)}`);
  if (wShape.length !== 4) throw new Error(`${op}: w must be [Cout,Cin,kh,kw], got ${fmt(wShape)}`);
  const [n, cin, h, w] = xShape as [number, number, number, number];
  const [cout, wcin, kh, kw] = wShape as [number, number, number, number];
  if (wcin !== cin) {
    throw new Error(`${op}: x ${fmt(xShape)} has ${cin} channels but w ${fmt(wShape)} expects ${wcin}`);
  }
  const stride = options.stride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`${op}: stride must be a positive integer, got ${stride}`);
  }
  const pad = normalizeConvPadding(op, options.padding ?? 0);
  const outH = convOutputSize(h, kh, stride, pad[0], pad[1]);
  const outW = convOutputSize(w, kw, stride, pad[2], pad[3]);
  if (kh < 1 || kw < 1 || outH < 1 || outW < 1) {
    throw new Error(
      `${op}: w ${fmt(wShape)} does not fit x ${fmt(xShape)} padded by [${pad}] (output would be ${outH}×${outW})`,
    );
  }
  return [n, cout, outH, outW];
}

/** The resolved geometry of one conv2d call. */
export interface Conv2dGeometry {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  /** [top, bottom, left, right] */
  pad: [number, number, number, number];
  outH: number;
  outW: number;
}
