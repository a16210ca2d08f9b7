// Float64 CPU arrays for the reference implementations: plain, slow and obviously right.

import { broadcastShapes, broadcastStrides, sizeOf, stridesOf, type Shape } from '../shape.ts';

export interface Ref {
  shape: number[];
  data: Float64Array;
}

export function refArray(shape: Shape, data?: ArrayLike<number>): Ref {
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  if (data) {
    if (data.length !== n) throw new Error(`refArray: ${data.length} values for shape [${shape.join(',')}]`);
    out.set(data);
  }
  return { shape: [...shape], data: out };
}

export function refMap(x: Ref, f: (v: number, i: number) => number): Ref {
  const out = refArray(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!, i);
  return out;
}

/** Coordinates of flat index i in `shape`. */
export function unravel(i: number, shape: Shape): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    c[d] = i % n;
    i = Math.floor(i / n);
  }
  return c;
}

/** out = f(a, b) with numpy broadcasting. */
export function refZip(a: Ref, b: Ref, f: (x: number, y: number) => number): Ref {
  const shape = broadcastShapes('reference', a.shape, b.shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const out = refArray(shape);
  for (let i = 0; i < out.data.length; i++) {
    const c = unravel(i, shape);
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < c.length; d++) {
      ia += c[d]! * sa[d]!;
      ib += c[d]! * sb[d]!;
    }
    out.data[i] = f(a.data[ia]!, b.data[ib]!);
  }
  return out;
}

/** Sums x down to `shape` (inverse of broadcasting). */
export function refSumTo(x: Ref, shape: Shape): Ref {
  const out = refArray(shape);
  const s = broadcastStrides(shape, x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = unravel(i, x.shape);
    let j = 0;
    for (let d = 0; d < c.length; d++) j += c[d]! * s[d]!;
    out.data[j] += x.data[i]!;
  }
  return out;
}

/** x broadcast to `shape`. */
export function refBroadcastTo(x: Ref, shape: Shape): Ref {
  return refZip(x, refArray(shape), (v) => v);
}

export { stridesOf, sizeOf };
