// Float64 references for sum and mean over axes.

import { refArray, unravel, type Ref } from './ndarray.ts';

export function refSum(x: Ref, axes: readonly number[], keepdim: boolean, scale = 1): Ref {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = refArray(keptShape);
  const ks = keptShape.map((_, i) => keptShape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < x.data.length; i++) {
    const c = unravel(i, x.shape);
    let j = 0;
    c.forEach((v, d) => (j += (axes.includes(d) ? 0 : v) * ks[d]!));
    out.data[j] += x.data[i]! * scale;
  }
  return keepdim ? out : { shape: x.shape.filter((_, i) => !axes.includes(i)), data: out.data };
}

/** Gradient of a (scaled) sum: gy spread over the reduced axes. */
export function refSumVjp(x: Ref, axes: readonly number[], gy: Ref, scale = 1): Ref {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ks = keptShape.map((_, i) => keptShape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = refArray(x.shape);
  for (let i = 0; i < out.data.length; i++) {
    const c = unravel(i, x.shape);
    let j = 0;
    c.forEach((v, d) => (j += (axes.includes(d) ? 0 : v) * ks[d]!));
    out.data[i] = gy.data[j]! * scale;
  }
  return out;
}

export function refMeanScale(x: Ref, axes: readonly number[]): number {
  return 1 / axes.reduce((n, a) => n * x.shape[a]!, 1);
}
