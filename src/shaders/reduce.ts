// Sum reduction over any set of axes, barrier-free: each invocation sums one (output, lane)
// item serially, where the reduced elements of an output are dealt to `lanes` invocations
// round-robin (adjacent lanes read adjacent elements); a second pass adds the lanes up.
// Workgroup barriers cost far more than they save on SwiftShader, our CI GPU.
//
// `contiguous`: the reduced axes are the trailing ones, so element r of output o sits at
// o·redCount + r; otherwise the input is addressed through kept/reduced strides.

import {
  UniformLayout,
  declareBindings,
  linearMain,
  unrolledOffsets,
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

/** `ranks` null: the contiguous kernel; else the (collapsed) kept and reduced ranks, unrolled. */
export function reduceSumKernel(ranks: { kept: number; reduced: number } | null): KernelSpec {
  const contiguous = ranks === null;
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'out', access: 'read_write' },
  ];
  const element = contiguous ? 'xs[o * params.redCount + r]' : 'xs[base + reducedOffset(r)]';
  const reducedFn = contiguous
    ? ''
    : `fn reducedOffset(r: u32) -> u32 {
  var off = 0u;
  ${unrolledOffsets(ranks.reduced, 'redShape', 'r', [['off', 'redStrides']])}
  return off;
}`;
  const keptBase = contiguous
    ? ''
    : `var base = 0u;
  {
  ${unrolledOffsets(ranks.kept, 'keptShape', 'o', [['base', 'keptStrides']])}
  }`;
  const code = `${declareBindings(reduceUniforms, storage)}
${reducedFn}
${linearMain(REDUCE_WORKGROUP, 'params.items')}
  // Items are lane-major, so neighbouring invocations take neighbouring lanes of one output.
  let o = idx / params.lanes;
  let lane = idx % params.lanes;
  ${keptBase}
  var acc = 0.0;
  for (var r = lane; r < params.redCount; r += params.lanes) { acc += ${element}; }
  out[idx] = acc * params.scale;
}`;
  return {
    key: contiguous ? 'reduce-sum:contiguous' : `reduce-sum:k${ranks.kept}:r${ranks.reduced}`,
    code,
    storage,
    uniforms: reduceUniforms,
    workgroupSize: REDUCE_WORKGROUP,
  };
}
