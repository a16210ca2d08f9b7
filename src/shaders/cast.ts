// Conversions between f32 and f16 tensors, two elements per invocation through WGSL's
// pack2x16float / unpack2x16float (core WGSL: no shader-f16 needed). An f16 tensor's storage is
// whole 4-byte words, so an odd count's last word holds one element and zero padding.

import { defineKernel } from './kernel.ts';

export const CAST_WORKGROUP = 256;

/** The largest finite f16: pack2x16float leaves values beyond it indeterminate, so casts saturate there. */
export const HALF_MAX = 65504;

const CAST_UNIFORMS = {
  /** ⌈count / 2⌉: the invocations. */
  pairs: 'u32',
  count: 'u32',
} as const;

/** dst (f16 pairs in u32 words) = src (f32), out-of-range values clamped to ±65504. */
export const castToHalfKernel = defineKernel({
  name: 'cast-to-f16',
  uniforms: CAST_UNIFORMS,
  bindings: { src: 'read', dst: { access: 'read_write', type: 'u32' } },
  workgroupSize: CAST_WORKGROUP,
  invocations: 'pairs',
  body: (_, k) => /* wgsl */ `${k.main}
  let i = 2u * idx;
  let second = select(0.0, src[min(i + 1u, params.count - 1u)], i + 1u < params.count);
  dst[idx] = pack2x16float(clamp(vec2<f32>(src[i], second), vec2<f32>(-${HALF_MAX}.0), vec2<f32>(${HALF_MAX}.0)));
}`,
});

/** dst (f32) = src (f16 pairs in u32 words). */
export const castToFloatKernel = defineKernel({
  name: 'cast-to-f32',
  uniforms: CAST_UNIFORMS,
  bindings: { src: { access: 'read', type: 'u32' }, dst: 'read_write' },
  workgroupSize: CAST_WORKGROUP,
  invocations: 'pairs',
  body: (_, k) => /* wgsl */ `${k.main}
  let v = unpack2x16float(src[idx]);
  let i = 2u * idx;
  dst[i] = v.x;
  if (i + 1u < params.count) { dst[i + 1u] = v.y; }
}`,
});
