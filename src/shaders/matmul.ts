// Batched matmul C[b] = op(A[b]) · op(B[b]), in f32 or (sampling) f16 operands with f32 sums. Four kernels, chosen per adapter
// (src/engine/tuning.ts) and size (src/engine/ops/matmul.ts):
//   - `tiled` (real GPUs): a workgroup of 16×16 invocations computes a 64×64 block of C, each
//     invocation a 4×4 sub-block in registers, staging 64×16 slabs of A and 16×64 of B in
//     workgroup memory, read back as vec4s: one A and one B read per 16 FMAs (scalar reads, 8
//     per 16 FMAs, left the H100 bound by workgroup-memory bandwidth at 25% of its f32 peak,
//     bench/README.md). The loaders read transposed operands through their strides (the slab's
//     fastest-moving index follows whichever stride is 1, so global reads stay coalesced), so
//     no transposed copy is ever made.
//   - the block kernels `vec4` and `strided` (software adapters, K and N multiples of 4):
//     register-blocked without workgroup memory, up to 32 × 16 outputs per invocation (chosen
//     per size), in workgroups of 2×2 invocations; `strided` reads transposed operands through
//     their strides. `general` takes every other size, a TILE_M × TILE_N block per invocation.
//     On SwiftShader a pipeline with workgroup memory takes ~2 s to build and tiling ran slower
//     there (it is only more memory traffic on a CPU).
// All four take split-K: grid z runs over (K slice, batch) pairs, slice-major, each slice
// summing K elements [kBegin, kBegin + kChunk) into its own copy of C; the op then adds the
// slices (one reduction). That fills a GPU when M·N is small and K long (weight gradients).
// All four take an optional `bias` [N] added to every row of C in the epilogue (a linear layer's:
// no pass of its own), by the first K slice only, so the slices' sum holds it once.

import { DIMS_ACCESSOR } from './common.ts';
import { comptime, defineKernel, ELEM_IN, ELEM_OUT, ELEM4_IN, ELEM4_OUT } from './kernel.ts';

export const MATMUL_TILE_M = 4;
export const MATMUL_TILE_N = 4;
export const MATMUL_WG_M = 8;
export const MATMUL_WG_N = 8;
/** Rows and columns of C covered by one workgroup. */
export const MATMUL_BLOCK_M = MATMUL_TILE_M * MATMUL_WG_M;
export const MATMUL_BLOCK_N = MATMUL_TILE_N * MATMUL_WG_N;
/** The block kernels' workgroup (rows, columns of invocations). */
export const MATMUL_BLOCK_WG_M = 2;
export const MATMUL_BLOCK_WG_N = 2;

const MATMUL_UNIFORMS = {
  batchShape: 'dims',
  aBatchStrides: 'dims',
  bBatchStrides: 'dims',
  batchRank: 'u32',
  M: 'u32',
  N: 'u32',
  K: 'u32',
  /** Element strides of A along m and k, and of B along k and n (transposes live here). */
  aStrideM: 'u32',
  aStrideK: 'u32',
  bStrideK: 'u32',
  bStrideN: 'u32',
  /** Batches in grid z (kSplits slices of them): C has kSplits · batches matrices. */
  batches: 'u32',
  /** K elements per slice, a multiple of the kernel's K step. */
  kChunk: 'u32',
} as const;

/** Rows and columns of C per workgroup of the tiled kernel, and its K step. */
export const MATMUL_TILED_BLOCK = 64;
export const MATMUL_TILED_K = 16;
const TILED_WG = 16;
/** Rows and columns of C per invocation: 4, so a row of them is one vec4 accumulator. */
const TILED_PER_THREAD = MATMUL_TILED_BLOCK / TILED_WG;

const BATCH_OFFSETS = /* wgsl */ `
fn batchOffsets(batch: u32) -> vec2<u32> {
  var rest = batch;
  var offA = 0u;
  var offB = 0u;
  for (var d = i32(params.batchRank) - 1; d >= 0; d--) {
    let n = dimAt(params.batchShape, u32(d));
    let c = rest % n;
    rest = rest / n;
    offA += c * dimAt(params.aBatchStrides, u32(d));
    offB += c * dimAt(params.bBatchStrides, u32(d));
  }
  return vec2<u32>(offA, offB);
}
`;

/** From grid z (`z`: slice-major (K slice, batch)): the batch, its K slice [kBegin, kEnd) and operand offsets. */
const sliceOf = (z: string): string => `let batch = ${z} % params.batches;
  let kBegin = (${z} / params.batches) * params.kChunk;
  let kEnd = min(params.K, kBegin + params.kChunk);
  let offs = batchOffsets(batch);`;

/**
 * The general kernel's entry point after `entry` (the @compute attribute): this invocation's
 * block of C (row0, col0), its batch, K slice [kBegin, kEnd) and operand offsets, and cBase.
 */
const MAIN = /* wgsl */ `
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * ${MATMUL_TILE_M}u;
  let col0 = gid.x * ${MATMUL_TILE_N}u;
  if (row0 >= params.M || col0 >= params.N) { return; }
  ${sliceOf('gid.z')}
  let cBase = gid.z * params.M * params.N;`;

/** WGSL adding bias[col] to `value` when the launch has a bias (the first K slice only), else `value`. */
const withBias = (hasBias: boolean, value: string, col: string): string => (hasBias ? `${value} + select(0.0, f32(bias[${col}]), kBegin == 0u)` : value);

const write = (hasBias: boolean): string => /* wgsl */ `
  for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
    let row = row0 + r;
    if (row < params.M) {
      for (var c = 0u; c < ${MATMUL_TILE_N}u; c++) {
        if (col0 + c < params.N) { cs[cBase + row * params.N + col0 + c] = Elem(${withBias(hasBias, 'acc[r][c]', 'col0 + c')}); }
      }
    }
  }
}`;

const MATMUL_WORKGROUP = [MATMUL_WG_N, MATMUL_WG_M, 1] as const;

/** The general kernel's frame around its K loop. */
const matmulCode = (entry: string, loop: string, hasBias: boolean): string => `${DIMS_ACCESSOR}
${BATCH_OFFSETS}
${entry}${MAIN}
  var acc: array<vec4<f32>, ${MATMUL_TILE_M}>;${loop}
${write(hasBias)}`;

/** Scalar loads: any size, transposes and batch broadcasting via strides. */
const BIAS = { ...ELEM_IN, optional: true } as const;
const BIAS4 = { ...ELEM4_IN, optional: true } as const;

export const matmulGeneralKernel = defineKernel({
  name: 'matmul-general',
  uniforms: MATMUL_UNIFORMS,
  bindings: { as_: ELEM_IN, bs: ELEM_IN, cs: ELEM_OUT, bias: BIAS },
  workgroupSize: MATMUL_WORKGROUP,
  body: (_, k) => matmulCode(k.entry, `
  var aIdx: array<u32, ${MATMUL_TILE_M}>;
  for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
    aIdx[r] = offs.x + min(row0 + r, params.M - 1u) * params.aStrideM;
  }
  var bIdx: vec4<u32>;
  for (var c = 0u; c < ${MATMUL_TILE_N}u; c++) {
    bIdx[c] = offs.y + min(col0 + c, params.N - 1u) * params.bStrideN + kBegin * params.bStrideK;
  }
  for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) { aIdx[r] += kBegin * params.aStrideK; }
  for (var k = kBegin; k < kEnd; k++) {
    let b = vec4<f32>(f32(bs[bIdx.x]), f32(bs[bIdx.y]), f32(bs[bIdx.z]), f32(bs[bIdx.w]));
    bIdx += vec4<u32>(params.bStrideK);
    for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
      acc[r] = fma(vec4<f32>(f32(as_[aIdx[r]])), b, acc[r]);
      aIdx[r] += params.aStrideK;
    }
  }`, k.has.bias),
});

/** Rows and column quads of C per invocation the vec4 kernel may take (both compile-time constants). */
export const MATMUL_VEC4_ROWS = [32, 16, 8, 4] as const;
export const MATMUL_VEC4_QUADS = [4, 2, 1] as const;

/**
 * The block kernels' code (K and N multiples of 4): `rows` × 4·`quads` of C per invocation, every
 * output a named accumulator (on SwiftShader a register array indexed by a loop counter becomes
 * memory traffic), K in steps of 4. Larger blocks load less per multiply-add: in Chromium's
 * SwiftShader 1024³ ran 3.0 GFLOP/s at 4 × 4, 4.0 at 16 × 8, 4.8–5.0 at 16 × 16 and 5.6 at 32 × 16
 * (32 × 32 and 64 × 16 reached 6.1 but take ~2 s to build). No early return and no branch
 * around the K loop (rows and quads past C are clamped for loading and skipped when writing):
 * SwiftShader merges every value a loop carries, per lane, at each pass of a loop under a branch.
 * `strided` reads A and B element by element through their strides (transposes included; on
 * SwiftShader a vec4 load is four per-lane loads anyway, so this costs no more than the copy it
 * saves), otherwise as vec4 rows (A along k, B along n).
 */
function blockBody(rows: number, quads: number, strided: boolean, entry: string, hasBias: boolean): string {
  const R = [...Array(rows).keys()];
  const Q = [...Array(quads).keys()];
  const K4 = [0, 1, 2, 3];
  const vec = (parts: string[]) => `vec4<f32>(${parts.join(', ')})`;
  const setup = strided
    ? `${R.map((r) => `  let aRow${r} = offs.x + min(row0 + ${r}u, params.M - 1u) * params.aStrideM;`).join('\n')}
${Q.map((q) => K4.map((j) => `  let bCol${q}_${j} = offs.y + (4u * min(q0 + ${q}u, nQuads - 1u) + ${j}u) * params.bStrideN;`).join('\n')).join('\n')}
  let aStrideK = params.aStrideK;
  let bStrideK = params.bStrideK;
  var aK = kBegin * aStrideK;
  var bK = kBegin * bStrideK;`
    : `${R.map((r) => `  let aRow${r} = (offs.x + min(row0 + ${r}u, params.M - 1u) * params.K) / 4u;`).join('\n')}
${Q.map((q) => `  let bQuad${q} = min(q0 + ${q}u, nQuads - 1u);`).join('\n')}
  var bIdx = offs.y / 4u + kBegin * nQuads;`;
  const loadB = (i: number, q: number) =>
    strided
      ? vec(K4.map((j) => `f32(bs[bCol${q}_${j} + bK${i === 0 ? '' : ` + ${i}u * bStrideK`}])`))
      : `vec4<f32>(bs[bIdx + ${i === 0 ? '' : `${i}u * nQuads + `}bQuad${q}])`;
  const loadA = (r: number) =>
    strided ? vec(K4.map((i) => `f32(as_[aRow${r} + aK${i === 0 ? '' : ` + ${i}u * aStrideK`}])`)) : `vec4<f32>(as_[aRow${r} + k / 4u])`;
  const advance = strided ? 'aK += 4u * aStrideK;\n    bK += 4u * bStrideK;' : 'bIdx += 4u * nQuads;';
  return `${DIMS_ACCESSOR}
${BATCH_OFFSETS}
${entry}
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * ${rows}u;
  let q0 = gid.x * ${quads}u;
  let nQuads = params.N / 4u;
  ${sliceOf('gid.z')}
  let cBase = gid.z * params.M * nQuads;
${setup}
${R.map((r) => `  ${Q.map((q) => `var acc${r}_${q} = vec4<f32>(0.0);`).join(' ')}`).join('\n')}
  for (var k = kBegin; k < kEnd; k += 4u) {
${K4.map((i) => `    ${Q.map((q) => `let b${i}_${q} = ${loadB(i, q)};`).join(' ')}`).join('\n')}
${R.map(
  (r) => `    {
      let a = ${loadA(r)};
${Q.map((q) => `      acc${r}_${q} = fma(vec4<f32>(a.x), b0_${q}, fma(vec4<f32>(a.y), b1_${q}, fma(vec4<f32>(a.z), b2_${q}, fma(vec4<f32>(a.w), b3_${q}, acc${r}_${q}))));`).join('\n')}
    }`,
).join('\n')}
    ${advance}
  }
${hasBias ? Q.map((q) => `  let bias${q} = select(vec4<f32>(0.0), vec4<f32>(bias[min(q0 + ${q}u, nQuads - 1u)]), kBegin == 0u);`).join('\n') : ''}
${R.map((r) => `  if (row0 + ${r}u < params.M) {\n${Q.map((q) => `    if (q0 + ${q}u < nQuads) { cs[cBase + (row0 + ${r}u) * nQuads + q0 + ${q}u] = vec4<Elem>(acc${r}_${q}${hasBias ? ` + bias${q}` : ''}); }`).join('\n')}\n  }`).join('\n')}
}`;
}

const BLOCK_SPEC = { rows: comptime.int(1, 32), quads: comptime.int(1, 4) };

export const matmulVec4Kernel = defineKernel({
  name: 'matmul-vec4',
  uniforms: MATMUL_UNIFORMS,
  bindings: { as_: ELEM4_IN, bs: ELEM4_IN, cs: ELEM4_OUT, bias: BIAS4 },
  specialise: BLOCK_SPEC,
  workgroupSize: [MATMUL_BLOCK_WG_N, MATMUL_BLOCK_WG_M, 1],
  body: ({ rows, quads }, k) => blockBody(rows, quads, false, k.entry, k.has.bias),
});

/** The vec4 kernel's blocks with A and B read through their strides: transposed operands without a copy. */
export const matmulStridedKernel = defineKernel({
  name: 'matmul-strided',
  uniforms: MATMUL_UNIFORMS,
  bindings: { as_: ELEM_IN, bs: ELEM_IN, cs: ELEM4_OUT, bias: BIAS4 },
  specialise: BLOCK_SPEC,
  workgroupSize: [MATMUL_BLOCK_WG_N, MATMUL_BLOCK_WG_M, 1],
  body: ({ rows, quads }, k) => blockBody(rows, quads, true, k.entry, k.has.bias),
});

/**
 * Workgroup-memory tiles for real GPUs; any size, transposes read in the loaders. `aTransposed`
 * / `bTransposed` pick the slab's load order (which global index moves fastest between
 * neighbouring invocations), not the arithmetic: the strides carry the layout.
 */
export const matmulTiledKernel = defineKernel({
  name: 'matmul-tiled',
  uniforms: MATMUL_UNIFORMS,
  bindings: { as_: ELEM_IN, bs: ELEM_IN, cs: ELEM_OUT, bias: BIAS },
  specialise: { aTransposed: comptime.bool(), bTransposed: comptime.bool() },
  workgroupSize: [TILED_WG, TILED_WG, 1],
  body: ({ aTransposed, bTransposed }, k) => {
    const BLOCK = MATMUL_TILED_BLOCK;
    const BK = MATMUL_TILED_K;
    const THREADS = TILED_WG * TILED_WG;
    const LOADS = (BLOCK * BK) / THREADS;
    const QUADS = BLOCK / 4;
    // Slab element e's (r, kk), r a row of A (m) or a column of B (n); neighbouring e follow the
    // unit stride: r for a transposed A and a plain B, kk otherwise.
    const coords = (rFastest: boolean): string =>
      rFastest ? `let r = e % ${BLOCK}u; let kk = e / ${BLOCK}u;` : `let kk = e % ${BK}u; let r = e / ${BK}u;`;
    /** Stages one element of A's or B's slab, zero outside the matrix and the K slice. */
    const stage = (slab: string, rFastest: boolean, first: string, limit: string, buffer: string, offset: string, strideR: string, strideK: string): string => `{
        ${coords(rFastest)}
        let g = ${first} + r;
        let gk = k0 + kk;
        var v = 0.0;
        if (g < params.${limit} && gk < kEnd) { v = f32(${buffer}[${offset} + g * params.${strideR} + gk * params.${strideK}]); }
        ${slab}[kk * ${QUADS}u + r / 4u][r % 4u] = v;
      }`;
    return `${DIMS_ACCESSOR}
${BATCH_OFFSETS}
// [kk][r / 4] as vec4 over 4 consecutive rows of A or columns of B.
var<workgroup> slabA: array<vec4<f32>, ${BK * QUADS}>;
var<workgroup> slabB: array<vec4<f32>, ${BK * QUADS}>;
${k.entry}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  ${sliceOf('wid.z')}
  let blockRow = wid.y * ${BLOCK}u;
  let blockCol = wid.x * ${BLOCK}u;
  // This invocation's ${TILED_PER_THREAD}x${TILED_PER_THREAD} block of C inside the workgroup's.
  let tileRow = lid.y * ${TILED_PER_THREAD}u;
  let tileCol = lid.x * ${TILED_PER_THREAD}u;
  var acc: array<vec4<f32>, ${TILED_PER_THREAD}>;
  for (var k0 = kBegin; k0 < kEnd; k0 += ${BK}u) {
    for (var i = 0u; i < ${LOADS}u; i++) {
      let e = li + i * ${THREADS}u;
      ${stage('slabA', aTransposed, 'blockRow', 'M', 'as_', 'offs.x', 'aStrideM', 'aStrideK')}
      ${stage('slabB', !bTransposed, 'blockCol', 'N', 'bs', 'offs.y', 'bStrideN', 'bStrideK')}
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let a = slabA[kk * ${QUADS}u + tileRow / 4u];
      let b = slabB[kk * ${QUADS}u + tileCol / 4u];
${[...Array(TILED_PER_THREAD).keys()].map((r) => `      acc[${r}] = fma(vec4<f32>(a[${r}]), b, acc[${r}]);`).join('\n')}
    }
    workgroupBarrier();
  }
  let cBase = wid.z * params.M * params.N;
  for (var r = 0u; r < ${TILED_PER_THREAD}u; r++) {
    let row = blockRow + tileRow + r;
    if (row < params.M) {
      for (var c = 0u; c < ${TILED_PER_THREAD}u; c++) {
        let col = blockCol + tileCol + c;
        if (col < params.N) { cs[cBase + row * params.N + col] = Elem(${withBias(k.has.bias, 'acc[r][c]', 'col')}); }
      }
    }
  }
}`;
  },
});
