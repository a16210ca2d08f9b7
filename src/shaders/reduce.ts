// Sum reduction over any set of axes, barrier-free: each invocation sums one (output, lane)
// item serially, where the reduced elements of an output are dealt to `lanes` invocations
// round-robin (adjacent lanes read adjacent elements); a second pass adds the lanes up.
// Workgroup barriers cost far more than they save on SwiftShader, our CI GPU.
//
// `contiguous`: the reduced axes are the trailing ones, so element r of output o sits at
// o·redCount + r; otherwise the input is addressed through kept/reduced strides.

import { MAX_RANK, unrolledOffsets } from './common.ts';
import { comptime, defineKernel } from './kernel.ts';

export const REDUCE_WORKGROUP = 64;

/**
 * `contiguous`: the reduced axes are the trailing ones (the ranks are unused, pass 0); otherwise
 * the (collapsed) kept and reduced ranks, unrolled.
 */
export const reduceSumKernel = defineKernel({
  name: 'reduce-sum',
  uniforms: {
    keptShape: 'dims',
    keptStrides: 'dims',
    redShape: 'dims',
    redStrides: 'dims',
    keptRank: 'u32',
    redRank: 'u32',
    items: 'u32',
    redCount: 'u32',
    lanes: 'u32',
    scale: 'f32',
  },
  bindings: { xs: 'read', out: 'read_write' },
  specialise: { contiguous: comptime.bool(), keptRank: comptime.int(0, MAX_RANK), redRank: comptime.int(0, MAX_RANK) },
  workgroupSize: REDUCE_WORKGROUP,
  invocations: 'items',
  body: ({ contiguous, keptRank, redRank }, k) => {
    const element = contiguous ? 'xs[o * params.redCount + r]' : 'xs[base + reducedOffset(r)]';
    const reducedFn = contiguous
      ? ''
      : `fn reducedOffset(r: u32) -> u32 {
  var off = 0u;
  ${unrolledOffsets(redRank, 'redShape', 'r', [['off', 'redStrides']])}
  return off;
}`;
    const keptBase = contiguous
      ? ''
      : `var base = 0u;
  {
  ${unrolledOffsets(keptRank, 'keptShape', 'o', [['base', 'keptStrides']])}
  }`;
    return `${reducedFn}
${k.main}
  // Items are lane-major, so neighbouring invocations take neighbouring lanes of one output.
  let o = idx / params.lanes;
  let lane = idx % params.lanes;
  ${keptBase}
  var acc = 0.0;
  for (var r = lane; r < params.redCount; r += params.lanes) { acc += ${element}; }
  out[idx] = acc * params.scale;
}`;
  },
});
