// Sum reduction over any set of axes. The input is addressed as (kept axes) × (reduced axes)
// through strides, so no transpose is needed. Large reductions split into chunks whose partial
// sums a second pass adds up.

import {
  DIMS_ACCESSOR,
  UniformLayout,
  declareBindings,
  type KernelSpec,
  type StorageBinding,
} from './common.ts';

/** Threads that cooperate on one output in the workgroup variant. */
export const REDUCE_WORKGROUP = 64;
/** Reductions this short run one thread per output. */
export const REDUCE_SERIAL_MAX = 32;

export const reduceUniforms = new UniformLayout([
  { name: 'keptShape', type: 'dims' },
  { name: 'keptStrides', type: 'dims' },
  { name: 'redShape', type: 'dims' },
  { name: 'redStrides', type: 'dims' },
  { name: 'keptRank', type: 'u32' },
  { name: 'redRank', type: 'u32' },
  { name: 'items', type: 'u32' },
  { name: 'redCount', type: 'u32' },
  { name: 'chunkSize', type: 'u32' },
  { name: 'numChunks', type: 'u32' },
  { name: 'scale', type: 'f32' },
]);

const ADDRESSING = /* wgsl */ `
fn keptOffset(o: u32) -> u32 {
  var rest = o;
  var off = 0u;
  for (var d = i32(params.keptRank) - 1; d >= 0; d--) {
    let n = dimAt(params.keptShape, u32(d));
    off += (rest % n) * dimAt(params.keptStrides, u32(d));
    rest = rest / n;
  }
  return off;
}
fn reducedOffset(r: u32) -> u32 {
  var rest = r;
  var off = 0u;
  for (var d = i32(params.redRank) - 1; d >= 0; d--) {
    let n = dimAt(params.redShape, u32(d));
    off += (rest % n) * dimAt(params.redStrides, u32(d));
    rest = rest / n;
  }
  return off;
}
`;

/** `cooperative`: a workgroup per (output, chunk) item; otherwise a thread per item. */
export function reduceSumKernel(cooperative: boolean): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'out', access: 'read_write' },
  ];
  const header = `${declareBindings(reduceUniforms, storage)}
${DIMS_ACCESSOR}
${ADDRESSING}`;
  const body = cooperative
    ? `
var<workgroup> partial: array<f32, ${REDUCE_WORKGROUP}>;

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * nwg.x;
  var acc = 0.0;
  if (item < params.items) {
    let o = item / params.numChunks;
    let chunk = item % params.numChunks;
    let base = keptOffset(o);
    let start = chunk * params.chunkSize;
    let end = min(start + params.chunkSize, params.redCount);
    for (var r = start + lid; r < end; r += ${REDUCE_WORKGROUP}u) {
      acc += xs[base + reducedOffset(r)];
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = ${REDUCE_WORKGROUP / 2}u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u && item < params.items) { out[item] = partial[0] * params.scale; }
}`
    : `
@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let item = gid.x + gid.y * nwg.x * ${REDUCE_WORKGROUP}u;
  if (item >= params.items) { return; }
  let o = item / params.numChunks;
  let chunk = item % params.numChunks;
  let base = keptOffset(o);
  let start = chunk * params.chunkSize;
  let end = min(start + params.chunkSize, params.redCount);
  var acc = 0.0;
  for (var r = start; r < end; r++) { acc += xs[base + reducedOffset(r)]; }
  out[item] = acc * params.scale;
}`;
  return {
    key: `reduce-sum:${cooperative ? 'workgroup' : 'serial'}`,
    code: header + body,
    storage,
    uniforms: reduceUniforms,
    workgroupSize: REDUCE_WORKGROUP,
  };
}
