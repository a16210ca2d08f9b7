// Float64 reference for timestepCombine.

import { refArray, type Ref } from './ndarray.ts';

export function refTimestepCombine(x: Ref, y: Ref, a: Ref, b: Ref, t: Ref): Ref {
  const per = x.data.length / x.shape[0]!;
  const out = refArray(x.shape);
  for (let i = 0; i < out.data.length; i++) {
    const ti = t.data[Math.floor(i / per)]!;
    out.data[i] = a.data[ti]! * x.data[i]! + b.data[ti]! * y.data[i]!;
  }
  return out;
}

export function refTimestepCombineVjp(x: Ref, a: Ref, b: Ref, t: Ref, gy: Ref): [Ref, Ref] {
  const per = x.data.length / x.shape[0]!;
  const gx = refArray(x.shape);
  const gyOut = refArray(x.shape);
  for (let i = 0; i < gy.data.length; i++) {
    const ti = t.data[Math.floor(i / per)]!;
    gx.data[i] = a.data[ti]! * gy.data[i]!;
    gyOut.data[i] = b.data[ti]! * gy.data[i]!;
  }
  return [gx, gyOut];
}
