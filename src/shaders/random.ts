// Counter-based random numbers on the GPU, bit-identical to src/engine/random.ts (`Rng`):
// value i of stream `seed` is a hash of (seed, counter + i), so no state lives on the GPU.

import { comptime, defineKernel } from './kernel.ts';

export const RANDOM_WORKGROUP = 256;

/** lowbias32 (Chris Wellons): x ^= x >> shift, then x *= multiply (mod 2³²), per round. */
const HASH_ROUNDS: readonly { shift: number; multiply?: number }[] = [
  { shift: 16, multiply: 0x7feb352d },
  { shift: 15, multiply: 0x846ca68b },
  { shift: 16 },
];
/** Mixed into a seed before hashing, so seed 0 is not a fixed point. */
export const STREAM_GOLDEN = 0x9e3779b9;

const hex = (n: number) => `0x${n.toString(16)}u`;

/**
 * The one hash of the project, written once as data: the TS function and the WGSL function
 * below are both generated from HASH_ROUNDS, so CPU and GPU streams cannot drift apart.
 */
export function hash32(v: number): number {
  let x = v >>> 0;
  for (const r of HASH_ROUNDS) {
    x = (x ^ (x >>> r.shift)) >>> 0;
    if (r.multiply !== undefined) x = Math.imul(x, r.multiply) >>> 0;
  }
  return x;
}

export const HASH_WGSL = /* wgsl */ `
fn hash32(v: u32) -> u32 {
  var x = v;
${HASH_ROUNDS.map((r) => `  x ^= x >> ${r.shift}u;${r.multiply === undefined ? '' : `\n  x *= ${hex(r.multiply)};`}`).join('\n')}
  return x;
}
`;

/** WGSL twins of Rng.nextU32 / uniform / normal (Box–Muller on two draws). */
export const RANDOM_WGSL = /* wgsl */ `
${HASH_WGSL}
fn randomU32(seed: u32, counter: u32) -> u32 {
  return hash32(hash32(seed ^ ${hex(STREAM_GOLDEN)}) ^ hash32(counter));
}
/** Uniform in (0, 1), as (u + 0.5) / 2^32. */
fn randomUniform(seed: u32, counter: u32) -> f32 {
  return (f32(randomU32(seed, counter) >> 8u) + 0.5) / 16777216.0;
}
fn randomNormal(seed: u32, counter: u32) -> f32 {
  let u1 = randomUniform(seed, counter);
  let u2 = randomUniform(seed, counter + 1u);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
`;

export type RandomKind = 'normal' | 'uniform' | 'integer';

/**
 * Fills `out`: normal → a + b·N(0,1) (element i uses counters 2i, 2i+1); uniform → a + (b−a)·U;
 * integer → floor(U·a) in [0, a) stored as f32.
 */
export const randomKernel = defineKernel({
  name: 'random',
  uniforms: { count: 'u32', seed: 'u32', counter: 'u32', a: 'f32', b: 'f32' },
  bindings: { out: 'read_write' },
  specialise: { kind: comptime.oneOf<RandomKind>(['normal', 'uniform', 'integer']) },
  workgroupSize: RANDOM_WORKGROUP,
  invocations: 'count',
  body: ({ kind }, k) => {
    const value =
      kind === 'normal'
        ? 'params.a + params.b * randomNormal(params.seed, params.counter + 2u * idx)'
        : kind === 'uniform'
          ? 'params.a + (params.b - params.a) * randomUniform(params.seed, params.counter + idx)'
          : 'min(floor(randomUniform(params.seed, params.counter + idx) * params.a), params.a - 1.0)';
    return `${RANDOM_WGSL}
${k.main}
  out[idx] = ${value};
}`;
  },
});
