// Sum reduction over any set of axes, barrier-free: each invocation sums one (output, lane)
// item serially, where the reduced elements of an output are dealt to `lanes` invocations
// round-robin (adjacent lanes read adjacent elements); a second pass adds the lanes up.
// Workgroup barriers cost far more than they save on SwiftShader, our CI GPU.
//
// `contiguous`: the reduced axes are the trailing ones, so element r of output o sits at
// o·redCount + r; otherwise the input is addressed through kept/reduced strides.

import {
  DIMS_ACCESSOR,
  UniformLayout,
  declareBindings,
  linearMain,
  type KernelSpec,
  type StorageBinding,
} from './common.ts';

export const REDUCE_WORKGROUP = 64;

export const reduceUniforms = new UniformLayout([
  { name: 'keptShape', type: 'dims' },
  { name: 'keptStrides', type: 'dims' },
  { name: 'redShape', type: 'dims' },
  { name: 'redStrides', type: 'dims' },
  { name: 'keptRank', type: 'u32' },
  { name: 'redRank', type: 'u32' },
  { name: 'items', type: 'u32' },
  { name: 'redCount', type: 'u32' },
  { name: 'lanes', type: 'u32' },
  { name: 'scale', type: 'f32' },
]);

const STRIDED_ADDRESSING = /* wgsl */ `
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

export function reduceSumKernel(contiguous: boolean): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'out', access: 'read_write' },
  ];
  const element = contiguous ? 'xs[o * params.redCount + r]' : 'xs[base + reducedOffset(r)]';
  const code = `${declareBindings(reduceUniforms, storage)}
${contiguous ? '' : DIMS_ACCESSOR + STRIDED_ADDRESSING}
${linearMain(REDUCE_WORKGROUP, 'params.items')}
  // Items are lane-major, so neighbouring invocations take neighbouring lanes of one output.
  let o = idx / params.lanes;
  let lane = idx % params.lanes;
  ${contiguous ? '' : 'let base = keptOffset(o);'}
  var acc = 0.0;
  for (var r = lane; r < params.redCount; r += params.lanes) { acc += ${element}; }
  out[idx] = acc * params.scale;
}`;
  return {
    key: `reduce-sum:${contiguous ? 'contiguous' : 'strided'}`,
    code,
    storage,
    uniforms: reduceUniforms,
    workgroupSize: REDUCE_WORKGROUP,
  };
}
