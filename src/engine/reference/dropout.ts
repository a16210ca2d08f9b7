// Float64 reference for dropout, with the kernel's own mask (src/shaders/dropout.ts).

import { dropoutBits, dropoutKey, dropoutThreshold } from '../../shaders/dropout.ts';
import { refMap, type Ref } from './ndarray.ts';

/** 1/(1 − p) where element i is kept, 0 where it is dropped. */
export function refDropoutMultiplier(p: number, seed: number, i: number): number {
  if (p === 1) return 0;
  return dropoutBits(dropoutKey(seed), i) >= dropoutThreshold(p) ? 1 / (1 - p) : 0;
}

export const refDropout = (x: Ref, p: number, seed: number): Ref =>
  refMap(x, (v, i) => v * refDropoutMultiplier(p, seed, i));

/** dx of Σ dropout(x)·gy: the same mask applied to gy. */
export const refDropoutVjp = (gy: Ref, p: number, seed: number): Ref => refDropout(gy, p, seed);
