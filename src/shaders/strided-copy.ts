// One strided copy kernel serves permute, broadcastTo, slice, concat and their backwards:
// for every index of a block, dst[dstOffset + Σ c·dstStrides] = src[srcOffset + Σ c·srcStrides].
// On a real GPU a transpose (the block's rows contiguous in src, its columns in dst) reads or
// writes at a large stride either way; the tiled kernel stages 32x32 tiles in workgroup memory
// so both sides are coalesced (chosen per adapter: src/engine/tuning.ts).

import { MAX_RANK, unrolledOffsets } from './common.ts';
import { comptime, defineKernel, ELEM_IN, ELEM_OUT } from './kernel.ts';

export const STRIDED_COPY_WORKGROUP = 256;

/**
 * How an invocation covers the block's innermost axis: one element (`one`), or 4 consecutive
 * dst elements (`copy4`: from 4 consecutive src elements; `broadcast4`: all from one), which
 * takes the index arithmetic (divisions, slow on SwiftShader) once per 4 elements. The op
 * passes the innermost extent and strides in units of 4 for those.
 */
export type CopyRun = 'one' | 'copy4' | 'broadcast4';

/** Specialised by the (collapsed) rank of the block and the innermost run. */
export const stridedCopyKernel = defineKernel({
  name: 'strided-copy',
  uniforms: {
    blockShape: 'dims',
    srcStrides: 'dims',
    dstStrides: 'dims',
    rank: 'u32',
    count: 'u32',
    srcOffset: 'u32',
    dstOffset: 'u32',
  },
  bindings: { src: ELEM_IN, dst: ELEM_OUT },
  specialise: { rank: comptime.int(0, MAX_RANK), run: comptime.oneOf<CopyRun>(['one', 'copy4', 'broadcast4']) },
  workgroupSize: STRIDED_COPY_WORKGROUP,
  invocations: 'count',
  body: ({ rank, run }, k) => {
    const write =
      run === 'one'
        ? 'dst[id] = src[is];'
        : run === 'copy4'
          ? 'dst[id] = src[is]; dst[id + 1u] = src[is + 1u]; dst[id + 2u] = src[is + 2u]; dst[id + 3u] = src[is + 3u];'
          : 'let v = src[is]; dst[id] = v; dst[id + 1u] = v; dst[id + 2u] = v; dst[id + 3u] = v;';
    return `${k.main}
  var is = params.srcOffset;
  var id = params.dstOffset;
  ${unrolledOffsets(rank, 'blockShape', 'idx', [['is', 'srcStrides'], ['id', 'dstStrides']])}
  ${write}
}`;
  },
});

/** Side of the tiled transpose's square tile; the workgroup is TILE x TRANSPOSE_ROWS invocations. */
export const TRANSPOSE_TILE = 32;
const TRANSPOSE_ROWS = 8;

/**
 * A block [batch, rows, cols] whose src stride along rows is 1 and dst stride along cols is 1
 * (other strides any): grid (⌈cols/32⌉, ⌈rows/32⌉, batch).
 */
export const transposeTiledKernel = defineKernel({
  name: 'transpose-tiled',
  uniforms: {
    rows: 'u32',
    cols: 'u32',
    srcStrideBatch: 'u32',
    srcStrideCol: 'u32',
    dstStrideBatch: 'u32',
    dstStrideRow: 'u32',
    srcOffset: 'u32',
    dstOffset: 'u32',
  },
  bindings: { src: ELEM_IN, dst: ELEM_OUT },
  workgroupSize: [TRANSPOSE_TILE, TRANSPOSE_ROWS, 1],
  body: (_, k) => /* wgsl */ `
const TILE = ${TRANSPOSE_TILE}u;
const STEP = ${TRANSPOSE_ROWS}u;
// One padding column, so reading a tile column hits distinct banks.
var<workgroup> tile: array<Elem, ${TRANSPOSE_TILE * (TRANSPOSE_TILE + 1)}>;
${k.entry}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let srcBase = params.srcOffset + wid.z * params.srcStrideBatch;
  let dstBase = params.dstOffset + wid.z * params.dstStrideBatch;
  // Read: neighbouring invocations take neighbouring rows (src's unit stride).
  for (var j = lid.y; j < TILE; j += STEP) {
    let row = row0 + lid.x;
    let col = col0 + j;
    if (row < params.rows && col < params.cols) {
      tile[j * (TILE + 1u) + lid.x] = src[srcBase + row + col * params.srcStrideCol];
    }
  }
  workgroupBarrier();
  // Write: neighbouring invocations take neighbouring columns (dst's unit stride).
  for (var i = lid.y; i < TILE; i += STEP) {
    let row = row0 + i;
    let col = col0 + lid.x;
    if (row < params.rows && col < params.cols) {
      dst[dstBase + row * params.dstStrideRow + col] = tile[lid.x * (TILE + 1u) + i];
    }
  }
}`,
});
