// Float64 reference for cast: to f16, each value rounded to the nearest f16 (saturating at
// ±65504); to f32, unchanged (the reference holds f32-exact values already).

import { roundToHalf, type DType } from '../dtype.ts';
import { refArray, type Ref } from './ndarray.ts';

export function refCast(x: Ref, dtype: DType): Ref {
  const out = refArray(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    out.data[i] = dtype === 'f16' ? roundToHalf(v) : v;
  }
  return out;
}
