// Element types of tensors: f32 everywhere, f16 for sampling on adapters with 'shader-f16'
// (weights and activations stored in half precision, arithmetic in f32). The CPU side of f16:
// its byte size and the conversions to and from f32 that uploads and readbacks use.

import { HALF_MAX } from '../shaders/cast.ts';
import type { ElemType } from '../shaders/kernel.ts';

/** What a tensor's elements are: the kernels' `Elem` (src/shaders/kernel.ts). */
export type DType = ElemType;
export const DTYPES: readonly DType[] = ['f32', 'f16'];

/** The adapter feature that f16 kernels need. */
export const SHADER_F16 = 'shader-f16';

export function supportsF16(features: readonly string[]): boolean {
  return features.includes(SHADER_F16);
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

/** Bytes of storage for `size` elements: WebGPU copies and bindings work in whole 4-byte words. */
export function storageBytes(size: number, dtype: DType): number {
  return Math.ceil((size * bytesPerElement(dtype)) / 4) * 4;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The f16 bit pattern nearest to `value` (ties to even); finite values beyond ±65504 saturate
 * there, as the cast kernel does; ±Infinity and NaN stay.
 */
export function toHalfBits(value: number): number {
  f32[0] = Number.isFinite(value) ? Math.min(HALF_MAX, Math.max(-HALF_MAX, value)) : value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e <= 0) {
    // Subnormal (or zero): shift the mantissa, with its implicit 1, into place and round.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let bits = mantissa >>> shift;
    if (rest > half || (rest === half && (bits & 1) !== 0)) bits++;
    return sign | bits;
  }
  const rest = mantissa & 0x1fff;
  let bits = (e << 10) | (mantissa >>> 13);
  // A carry out of the mantissa bumps the exponent (saturation keeps it below Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1) !== 0)) bits++;
  return sign | bits;
}

export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** `values` rounded to f16, as the bits a GPU buffer holds (padded to a whole 4-byte word). */
export function encodeHalf(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(storageBytes(values.length, 'f16') / 2);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]!);
  return out;
}

export function decodeHalf(bits: Uint16Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = fromHalfBits(bits[i]!);
  return out;
}

/** `value` rounded to the nearest f16 (what storing it in an f16 tensor keeps). */
export function roundToHalf(value: number): number {
  return fromHalfBits(toHalfBits(value));
}
