// Float64 reference for cast: to f16, each value rounded to the nearest f16 (clamped to ±65504);
// to f32, unchanged (the reference holds f32-exact values already).

import { roundToHalf, type DType } from '../dtype.ts';
import { refArray, type Ref } from './ndarray.ts';

const HALF_MAX = 65504;

export function refCast(x: Ref, dtype: DType): Ref {
  const out = refArray(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    out.data[i] = dtype === 'f16' ? roundToHalf(Math.min(HALF_MAX, Math.max(-HALF_MAX, v))) : v;
  }
  return out;
}
