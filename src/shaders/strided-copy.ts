// One strided copy kernel serves permute, broadcastTo, slice, concat and their backwards:
// for every index of a block, dst[dstOffset + Σ c·dstStrides] = src[srcOffset + Σ c·srcStrides].

import { MAX_RANK, unrolledOffsets } from './common.ts';
import { comptime, defineKernel } from './kernel.ts';

export const STRIDED_COPY_WORKGROUP = 256;

/** Specialised by the (collapsed) rank of the block. */
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
  bindings: { src: 'read', dst: 'read_write' },
  specialise: { rank: comptime.int(0, MAX_RANK) },
  workgroupSize: STRIDED_COPY_WORKGROUP,
  invocations: 'count',
  body: ({ rank }, k) => `${k.main}
  var is = params.srcOffset;
  var id = params.dstOffset;
  ${unrolledOffsets(rank, 'blockShape', 'idx', [['is', 'srcStrides'], ['id', 'dstStrides']])}
  dst[id] = src[is];
}`,
});
