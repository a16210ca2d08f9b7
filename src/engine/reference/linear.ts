// Float64 reference for linear: y = x wᵀ + b over the last axis, w [out, in].

import { refArray, type Ref } from './ndarray.ts';

export function refLinear(x: Ref, w: Ref, b: Ref | null): Ref {
  const [outF, inF] = w.shape as [number, number];
  const rows = x.data.length / inF;
  const y = refArray([...x.shape.slice(0, -1), outF]);
  for (let n = 0; n < rows; n++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b.data[o]! : 0;
      for (let i = 0; i < inF; i++) s += x.data[n * inF + i]! * w.data[o * inF + i]!;
      y.data[n * outF + o] = s;
    }
  }
  return y;
}

/** [dx, dw, db] of Σ linear(x, w, b)·gy (db is null without a bias). */
export function refLinearVjp(x: Ref, w: Ref, b: Ref | null, gy: Ref): [Ref, Ref, Ref | null] {
  const [outF, inF] = w.shape as [number, number];
  const rows = x.data.length / inF;
  const dx = refArray(x.shape);
  const dw = refArray(w.shape);
  const db = b ? refArray(b.shape) : null;
  for (let n = 0; n < rows; n++) {
    for (let o = 0; o < outF; o++) {
      const g = gy.data[n * outF + o]!;
      if (db) db.data[o] += g;
      for (let i = 0; i < inF; i++) {
        dx.data[n * inF + i] += g * w.data[o * inF + i]!;
        dw.data[o * inF + i] += g * x.data[n * inF + i]!;
      }
    }
  }
  return [dx, dw, db];
}
