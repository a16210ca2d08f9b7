// One strided copy kernel serves permute, broadcastTo, slice, concat and their backwards:
// for every index of a block, dst[dstOffset + Σ c·dstStrides] = src[srcOffset + Σ c·srcStrides].

import {
  UniformLayout,
  declareBindings,
  linearMain,
  unrolledOffsets,
  type KernelSpec,
  type StorageBinding,
} from './common.ts';

export const STRIDED_COPY_WORKGROUP = 256;

export const stridedCopyUniforms = new UniformLayout([
  { name: 'blockShape', type: 'dims' },
  { name: 'srcStrides', type: 'dims' },
  { name: 'dstStrides', type: 'dims' },
  { name: 'rank', type: 'u32' },
  { name: 'count', type: 'u32' },
  { name: 'srcOffset', type: 'u32' },
  { name: 'dstOffset', type: 'u32' },
]);

/** Specialised by the (collapsed) rank of the block. */
export function stridedCopyKernel(rank: number): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'src', access: 'read' },
    { name: 'dst', access: 'read_write' },
  ];
  const code = `${declareBindings(stridedCopyUniforms, storage)}
${linearMain(STRIDED_COPY_WORKGROUP, 'params.count')}
  var is = params.srcOffset;
  var id = params.dstOffset;
  ${unrolledOffsets(rank, 'blockShape', 'idx', [['is', 'srcStrides'], ['id', 'dstStrides']])}
  dst[id] = src[is];
}`;
  return { key: `strided-copy:r${rank}`, code, storage, uniforms: stridedCopyUniforms, workgroupSize: STRIDED_COPY_WORKGROUP };
}
