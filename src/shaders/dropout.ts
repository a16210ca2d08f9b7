// Dropout with a counter-based hash: element i of stream `seed` is kept when
// bits(seed, i) = hash32(hash32(seed ^ GOLDEN) ^ hash32(i)) is at least p·2³². The mask is a pure
// function of (seed, i), so the backward regenerates it (no mask buffer) and the CPU reference
// reproduces it exactly. The hash is written once, as data, and both the WGSL and the TS
// functions are generated from it, so the two cannot drift apart.

import { UniformLayout, declareBindings, linearMain, type KernelSpec, type StorageBinding } from './common.ts';

export const DROPOUT_WORKGROUP = 256;

/** lowbias32 (Chris Wellons): x ^= x >> shift, then x *= multiply (mod 2³²), per round. */
const HASH_ROUNDS: readonly { shift: number; multiply?: number }[] = [
  { shift: 16, multiply: 0x7feb352d },
  { shift: 15, multiply: 0x846ca68b },
  { shift: 16 },
];
const GOLDEN = 0x9e3779b9;

const hex = (n: number) => `0x${n.toString(16)}u`;

/** WGSL `hash32(x: u32) -> u32` and `dropoutBits(key, i)`, where key = dropoutKey(seed). */
export const DROPOUT_HASH_WGSL = /* wgsl */ `
fn hash32(v: u32) -> u32 {
  var x = v;
${HASH_ROUNDS.map((r) => `  x ^= x >> ${r.shift}u;${r.multiply === undefined ? '' : `\n  x *= ${hex(r.multiply)};`}`).join('\n')}
  return x;
}
fn dropoutBits(key: u32, i: u32) -> u32 { return hash32(key ^ hash32(i)); }
`;

export function hash32(v: number): number {
  let x = v >>> 0;
  for (const r of HASH_ROUNDS) {
    x = (x ^ (x >>> r.shift)) >>> 0;
    if (r.multiply !== undefined) x = Math.imul(x, r.multiply) >>> 0;
  }
  return x;
}

/** The per-stream key, computed on the CPU and passed to the kernel as a uniform. */
export const dropoutKey = (seed: number): number => hash32((seed ^ GOLDEN) >>> 0);

/** The 32 random bits of element i (the TS twin of WGSL dropoutBits). */
export const dropoutBits = (key: number, i: number): number => hash32((key ^ hash32(i)) >>> 0);

/** Elements with bits below this are dropped: round(p·2³²), so P(drop) = p to 2⁻³³. */
export function dropoutThreshold(p: number): number {
  return Math.min(Math.round(p * 2 ** 32), 2 ** 32 - 1);
}

export const dropoutUniforms = new UniformLayout([
  { name: 'count', type: 'u32' },
  { name: 'key', type: 'u32' },
  { name: 'threshold', type: 'u32' },
  { name: 'scale', type: 'f32' },
]);

/** ys = xs · mask · scale; the same kernel maps dy to dx. */
export function dropoutKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'ys', access: 'read_write' },
  ];
  const code = `${declareBindings(dropoutUniforms, storage)}
${DROPOUT_HASH_WGSL}
${linearMain(DROPOUT_WORKGROUP, 'params.count')}
  let keep = dropoutBits(params.key, idx) >= params.threshold;
  ys[idx] = select(0.0, xs[idx] * params.scale, keep);
}`;
  return { key: 'dropout', code, storage, uniforms: dropoutUniforms, workgroupSize: DROPOUT_WORKGROUP };
}
