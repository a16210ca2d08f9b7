// Float64 reference for nearest-neighbour ×2 upsampling of [N, C, H, W] and its VJP.

import { refArray, type Ref } from './ndarray.ts';

/** Calls f(inputIndex, outputIndex) for each input element and each of its 4 output copies. */
function forEachCopy(shape: number[], f: (i: number, o: number) => void): void {
  const [n, c, h, w] = shape as [number, number, number, number];
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let a = 0; a < 2; a++) {
          for (let b = 0; b < 2; b++) f((p * h + i) * w + j, (p * 2 * h + 2 * i + a) * 2 * w + 2 * j + b);
        }
      }
    }
  }
}

export function refUpsampleNearest2x(x: Ref): Ref {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = refArray([n, c, 2 * h, 2 * w]);
  forEachCopy(x.shape, (i, o) => (out.data[o] = x.data[i]!));
  return out;
}

export function refUpsampleNearest2xVjp(x: Ref, gy: Ref): Ref {
  const dx = refArray(x.shape);
  forEachCopy(x.shape, (i, o) => (dx.data[i] += gy.data[o]!));
  return dx;
}
