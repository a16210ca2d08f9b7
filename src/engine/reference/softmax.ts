// Float64 references for softmax and log-softmax over the last axis.

import { refArray, type Ref } from './ndarray.ts';

function rows(x: Ref): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1]!;
  return { rows: x.data.length / cols, cols };
}

export function refSoftmax(x: Ref, log = false): Ref {
  const { rows: R, cols: C } = rows(x);
  const out = refArray(x.shape);
  for (let r = 0; r < R; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x.data[r * C + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x.data[r * C + c]! - m);
    for (let c = 0; c < C; c++) {
      const v = x.data[r * C + c]! - m;
      out.data[r * C + c] = log ? v - Math.log(s) : Math.exp(v) / s;
    }
  }
  return out;
}

export function refSoftmaxVjp(x: Ref, gy: Ref, log = false): Ref {
  const y = refSoftmax(x, false);
  const { rows: R, cols: C } = rows(x);
  const out = refArray(x.shape);
  for (let r = 0; r < R; r++) {
    let t = 0;
    for (let c = 0; c < C; c++) t += gy.data[r * C + c]! * (log ? 1 : y.data[r * C + c]!);
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      out.data[i] = log ? gy.data[i]! - y.data[i]! * t : y.data[i]! * (gy.data[i]! - t);
    }
  }
  return out;
}
