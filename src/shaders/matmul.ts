// Batched matmul C[b] = op(A[b]) · op(B[b]), register-blocked: each invocation computes a
// TILE_M × TILE_N block of C in registers; a workgroup covers WG_M·TILE_M × WG_N·TILE_N.
//
// Why no workgroup-memory tiling: on SwiftShader (our CI GPU) a pipeline that tiles through
// workgroup memory takes ~2 s to build versus ~0.2 s for this one, and ran slower there
// (tfjs-backend-webgpu's packed matmul). Two variants only:
//   - `general`: scalar loads, any size, transposes and batch broadcasting via strides;
//   - `vec4`: K and N multiples of 4, no transposes: A rows and B rows load as vec4.
// The two are separate kernels: their A and B bindings have different element types.

import { DIMS_ACCESSOR } from './common.ts';
import { defineKernel } from './kernel.ts';

export const MATMUL_TILE_M = 4;
export const MATMUL_TILE_N = 4;
export const MATMUL_WG_M = 8;
export const MATMUL_WG_N = 8;
/** Rows and columns of C covered by one workgroup. */
export const MATMUL_BLOCK_M = MATMUL_TILE_M * MATMUL_WG_M;
export const MATMUL_BLOCK_N = MATMUL_TILE_N * MATMUL_WG_N;

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
} as const;

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

/** The entry point after `entry` (the @compute attribute). */
const MAIN = /* wgsl */ `
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * ${MATMUL_TILE_M}u;
  let col0 = gid.x * ${MATMUL_TILE_N}u;
  if (row0 >= params.M || col0 >= params.N) { return; }
  let batch = gid.z;
  let offs = batchOffsets(batch);
  let cBase = batch * params.M * params.N;
  var acc: array<vec4<f32>, ${MATMUL_TILE_M}>;`;

const WRITE = /* wgsl */ `
  for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
    let row = row0 + r;
    if (row < params.M) {
      for (var c = 0u; c < ${MATMUL_TILE_N}u; c++) {
        if (col0 + c < params.N) { cs[cBase + row * params.N + col0 + c] = acc[r][c]; }
      }
    }
  }
}`;

const MATMUL_WORKGROUP = [MATMUL_WG_N, MATMUL_WG_M, 1] as const;

/** The shared frame of both kernels around the K loop. */
const matmulCode = (entry: string, loop: string): string => `${DIMS_ACCESSOR}
${BATCH_OFFSETS}
${entry}${MAIN}${loop}
${WRITE}`;

/** Scalar loads: any size, transposes and batch broadcasting via strides. */
export const matmulGeneralKernel = defineKernel({
  name: 'matmul-general',
  uniforms: MATMUL_UNIFORMS,
  bindings: { as_: 'read', bs: 'read', cs: 'read_write' },
  workgroupSize: MATMUL_WORKGROUP,
  body: (_, k) => matmulCode(k.entry, `
  var aIdx: array<u32, ${MATMUL_TILE_M}>;
  for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
    aIdx[r] = offs.x + min(row0 + r, params.M - 1u) * params.aStrideM;
  }
  var bIdx: vec4<u32>;
  for (var c = 0u; c < ${MATMUL_TILE_N}u; c++) {
    bIdx[c] = offs.y + min(col0 + c, params.N - 1u) * params.bStrideN;
  }
  for (var k = 0u; k < params.K; k++) {
    let b = vec4<f32>(bs[bIdx.x], bs[bIdx.y], bs[bIdx.z], bs[bIdx.w]);
    bIdx += vec4<u32>(params.bStrideK);
    for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
      acc[r] = fma(vec4<f32>(as_[aIdx[r]]), b, acc[r]);
      aIdx[r] += params.aStrideK;
    }
  }`),
});

/** K and N multiples of 4, no transposes: A rows and B rows load as vec4. */
export const matmulVec4Kernel = defineKernel({
  name: 'matmul-vec4',
  uniforms: MATMUL_UNIFORMS,
  bindings: {
    as_: { access: 'read', type: 'vec4<f32>' },
    bs: { access: 'read', type: 'vec4<f32>' },
    cs: 'read_write',
  },
  workgroupSize: MATMUL_WORKGROUP,
  body: (_, k) => matmulCode(k.entry, `
  // Rows past M are clamped to the last row for loading and skipped when writing.
  var aRow: array<u32, ${MATMUL_TILE_M}>;
  for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
    aRow[r] = (offs.x + min(row0 + r, params.M - 1u) * params.K) / 4u;
  }
  let nQuads = params.N / 4u;
  var bIdx = offs.y / 4u + col0 / 4u;
  for (var k = 0u; k < params.K; k += 4u) {
    let b0 = bs[bIdx];
    let b1 = bs[bIdx + nQuads];
    let b2 = bs[bIdx + 2u * nQuads];
    let b3 = bs[bIdx + 3u * nQuads];
    bIdx += 4u * nQuads;
    for (var r = 0u; r < ${MATMUL_TILE_M}u; r++) {
      let a = as_[aRow[r] + k / 4u];
      acc[r] = fma(vec4<f32>(a.x), b0, fma(vec4<f32>(a.y), b1, fma(vec4<f32>(a.z), b2, fma(vec4<f32>(a.w), b3, acc[r]))));
    }
  }`),
});
