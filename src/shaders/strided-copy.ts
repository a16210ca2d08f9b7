// One strided copy kernel serves permute, broadcastTo, slice, concat and their backwards:
// for every index of a block, dst[dstOffset + Σ c·dstStrides] = src[srcOffset + Σ c·srcStrides].

import {
  DIMS_ACCESSOR,
  UniformLayout,
  declareBindings,
  linearMain,
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

export function stridedCopyKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'src', access: 'read' },
    { name: 'dst', access: 'read_write' },
  ];
  const code = `${declareBindings(stridedCopyUniforms, storage)}
${DIMS_ACCESSOR}
${linearMain(STRIDED_COPY_WORKGROUP, 'params.count')}
  var rest = idx;
  var is = params.srcOffset;
  var id = params.dstOffset;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let n = dimAt(params.blockShape, u32(d));
    let c = rest % n;
    rest = rest / n;
    is += c * dimAt(params.srcStrides, u32(d));
    id += c * dimAt(params.dstStrides, u32(d));
  }
  dst[id] = src[is];
}`;
  return { key: 'strided-copy', code, storage, uniforms: stridedCopyUniforms, workgroupSize: STRIDED_COPY_WORKGROUP };
}
