// Float64 reference for the mean squared error.

import { refArray, type Ref } from './ndarray.ts';

export function refMse(pred: Ref, target: Ref): Ref {
  let s = 0;
  for (let i = 0; i < pred.data.length; i++) s += (pred.data[i]! - target.data[i]!) ** 2;
  return { shape: [], data: Float64Array.of(s / pred.data.length) };
}

export function refMseVjp(pred: Ref, target: Ref, gy: Ref): [Ref, Ref] {
  const n = pred.data.length;
  const g = gy.data[0]!;
  const gp = refArray(pred.shape);
  const gt = refArray(target.shape);
  for (let i = 0; i < n; i++) {
    const d = (2 * g * (pred.data[i]! - target.data[i]!)) / n;
    gp.data[i] = d;
    gt.data[i] = -d;
  }
  return [gp, gt];
}
