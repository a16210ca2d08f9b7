// Float64 references for the layout ops.

import { refArray, refBroadcastTo, refSumTo, sizeOf, stridesOf, unravel, type Ref } from './ndarray.ts';

export function refPermute(x: Ref, perm: readonly number[]): Ref {
  const shape = perm.map((p) => x.shape[p]!);
  const xs = stridesOf(x.shape);
  const out = refArray(shape);
  for (let i = 0; i < out.data.length; i++) {
    const c = unravel(i, shape);
    let j = 0;
    c.forEach((v, d) => (j += v * xs[perm[d]!]!));
    out.data[i] = x.data[j]!;
  }
  return out;
}

export function refInversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export function refSlice(x: Ref, axis: number, start: number, end: number): Ref {
  const shape = [...x.shape];
  shape[axis] = end - start;
  const xs = stridesOf(x.shape);
  const out = refArray(shape);
  for (let i = 0; i < out.data.length; i++) {
    const c = unravel(i, shape);
    c[axis] += start;
    out.data[i] = x.data[c.reduce((acc, v, d) => acc + v * xs[d]!, 0)]!;
  }
  return out;
}

/** Gradient of slice: gy placed into zeros of x's shape. */
export function refSliceVjp(xShape: readonly number[], axis: number, start: number, gy: Ref): Ref {
  const out = refArray(xShape);
  const xs = stridesOf(xShape);
  for (let i = 0; i < gy.data.length; i++) {
    const c = unravel(i, gy.shape);
    c[axis] += start;
    out.data[c.reduce((acc, v, d) => acc + v * xs[d]!, 0)] = gy.data[i]!;
  }
  return out;
}

export function refConcat(xs: readonly Ref[], axis: number): Ref {
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis]!, 0);
  const out = refArray(shape);
  const os = stridesOf(shape);
  let at = 0;
  for (const x of xs) {
    for (let i = 0; i < x.data.length; i++) {
      const c = unravel(i, x.shape);
      c[axis] += at;
      out.data[c.reduce((acc, v, d) => acc + v * os[d]!, 0)] = x.data[i]!;
    }
    at += x.shape[axis]!;
  }
  return out;
}

export function refConcatVjp(xs: readonly Ref[], axis: number, gy: Ref): Ref[] {
  let at = 0;
  return xs.map((x) => {
    const g = refSlice(gy, axis, at, at + x.shape[axis]!);
    at += x.shape[axis]!;
    return g;
  });
}

export const refReshape = (x: Ref, shape: readonly number[]): Ref => {
  if (sizeOf(shape) !== x.data.length) throw new Error('refReshape: size mismatch');
  return { shape: [...shape], data: x.data.slice() };
};

export { refBroadcastTo, refSumTo };
