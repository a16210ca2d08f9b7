// Dropout with a counter-based hash: element i of stream `seed` is kept when
// bits(seed, i) = hash32(hash32(seed ^ GOLDEN) ^ hash32(i)) is at least p·2³². The mask is a pure
// function of (seed, i), so the backward regenerates it (no mask buffer) and the CPU reference
// reproduces it exactly. The hash is the project's one hash (src/shaders/random.ts), generated
// for WGSL and TS from one definition.

import { defineKernel } from './kernel.ts';
import { HASH_WGSL, STREAM_GOLDEN, hash32 } from './random.ts';

export { hash32 };

export const DROPOUT_WORKGROUP = 256;

/** WGSL `hash32(x: u32) -> u32` and `dropoutBits(key, i)`, where key = dropoutKey(seed). */
export const DROPOUT_HASH_WGSL = /* wgsl */ `
${HASH_WGSL}
fn dropoutBits(key: u32, i: u32) -> u32 { return hash32(key ^ hash32(i)); }
`;

/** The per-stream key, computed on the CPU and passed to the kernel as a uniform. */
export const dropoutKey = (seed: number): number => hash32((seed ^ STREAM_GOLDEN) >>> 0);

/** The 32 random bits of element i (the TS twin of WGSL dropoutBits). */
export const dropoutBits = (key: number, i: number): number => hash32((key ^ hash32(i)) >>> 0);

/** Elements with bits below this are dropped: round(p·2³²), so P(drop) = p to 2⁻³³. */
export function dropoutThreshold(p: number): number {
  return Math.min(Math.round(p * 2 ** 32), 2 ** 32 - 1);
}

/** ys = xs · mask · scale; the same kernel maps dy to dx. */
export const dropoutKernel = defineKernel({
  name: 'dropout',
  uniforms: { count: 'u32', key: 'u32', threshold: 'u32', scale: 'f32' },
  bindings: { xs: 'read', ys: 'read_write' },
  workgroupSize: DROPOUT_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${DROPOUT_HASH_WGSL}
${k.main}
  let keep = dropoutBits(params.key, idx) >= params.threshold;
  ys[idx] = select(0.0, xs[idx] * params.scale, keep);
}`,
});
