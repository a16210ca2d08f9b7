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
  // Loop bounds in registers: SwiftShader reloads a uniform at every use.
  let redCount = params.redCount;
  let lanes = params.lanes;
  var acc = 0.0;
  for (var r = lane; r < redCount; r += lanes) { acc += ${element}; }
  out[idx] = acc * params.scale;
}`;
  },
});

/**
 * The contiguous case when the reduced count is a multiple of 4: 16-byte loads. `chunked`: each
 * lane sums one contiguous run of the output's elements (a CPU's caches and prefetchers want
 * that: software adapters); otherwise lanes interleave (neighbouring lanes read neighbouring
 * vec4s: coalesced on a GPU).
 */
export const reduceSumVec4Kernel = defineKernel({
  name: 'reduce-sum-vec4',
  uniforms: { items: 'u32', redCount: 'u32', lanes: 'u32', scale: 'f32' },
  bindings: { xs: { access: 'read', type: 'vec4<f32>' }, out: 'read_write' },
  specialise: { chunked: comptime.bool() },
  workgroupSize: REDUCE_WORKGROUP,
  invocations: 'items',
  body: ({ chunked }, k) => `${k.mainClamped}
  let o = idx / params.lanes;
  let lane = idx % params.lanes;
  let quads = params.redCount / 4u;
  let base = o * quads;
  var acc = vec4<f32>(0.0);
  ${
    chunked
      ? `// Four quads per pass into four sums, then the rest one by one.
  let per = (quads + params.lanes - 1u) / params.lanes;
  var q = min(quads, lane * per);
  let end = min(quads, q + per);
  let end4 = q + (end - q) / 4u * 4u;
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (; q < end4; q += 4u) {
    acc += xs[base + q];
    acc1 += xs[base + q + 1u];
    acc2 += xs[base + q + 2u];
    acc3 += xs[base + q + 3u];
  }
  for (; q < end; q++) { acc += xs[base + q]; }
  acc += acc1 + acc2 + acc3;`
      : `let lanes = params.lanes;
  for (var q = lane; q < quads; q += lanes) { acc += xs[base + q]; }`
  }
  if (live) { out[idx] = (acc.x + acc.y + acc.z + acc.w) * params.scale; }
}`,
});

/**
 * The contiguous vec4 case on a device with subgroups: a workgroup's invocations are 64
 * interleaved lanes of one output (lanes is a multiple of 64); each subgroup adds its lanes in
 * registers, and the workgroup's first invocation adds the subgroups' sums into out[workgroup],
 * so the next pass has 64× fewer partial sums. Subgroups are runs of consecutive invocation
 * indices, as every implementation forms them for a 1-D workgroup.
 */
export const reduceSumWorkgroupKernel = defineKernel({
  name: 'reduce-sum-workgroup',
  uniforms: { workgroups: 'u32', redCount: 'u32', lanes: 'u32', scale: 'f32' },
  bindings: { xs: { access: 'read', type: 'vec4<f32>' }, out: 'read_write' },
  extensions: () => ['subgroups'],
  workgroupSize: REDUCE_WORKGROUP,
  body: (_, k) => /* wgsl */ `
var<workgroup> subgroupSums: array<f32, ${REDUCE_WORKGROUP}>;
${k.entry}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sgLane: u32, @builtin(subgroup_size) sgSize: u32) {
  // Workgroups past the end (a folded grid) run on a clamped one and write nothing: no early
  // return before the barrier.
  let group = wid.x + wid.y * nwg.x;
  let wg = min(group, params.workgroups - 1u);
  let idx = wg * ${REDUCE_WORKGROUP}u + lid;
  let o = idx / params.lanes;
  let lane = idx % params.lanes;
  let quads = params.redCount / 4u;
  let base = o * quads;
  let lanes = params.lanes;
  var acc = vec4<f32>(0.0);
  for (var q = lane; q < quads; q += lanes) { acc += xs[base + q]; }
  let total = subgroupAdd(acc.x + acc.y + acc.z + acc.w);
  if (sgLane == 0u) { subgroupSums[lid / sgSize] = total; }
  workgroupBarrier();
  if (lid == 0u && group < params.workgroups) {
    var sum = subgroupSums[0];
    for (var i = 1u; i < ${REDUCE_WORKGROUP}u / sgSize; i++) { sum += subgroupSums[i]; }
    out[group] = sum * params.scale;
  }
}`,
});

/**
 * Sums over leading axes when the kept part is a multiple of 4 elements (split-K slabs, the
 * batch axis of a gradient): invocation q adds vec4 q of every reduced row, so neighbouring
 * invocations read neighbouring vec4s and no index needs a division.
 */
export const reduceSumLeadingKernel = defineKernel({
  name: 'reduce-sum-leading',
  uniforms: { quads: 'u32', rows: 'u32', scale: 'f32' },
  bindings: { xs: { access: 'read', type: 'vec4<f32>' }, out: { access: 'read_write', type: 'vec4<f32>' } },
  workgroupSize: REDUCE_WORKGROUP,
  invocations: 'quads',
  body: (_, k) => `${k.main}
  let quads = params.quads;
  let rows = params.rows;
  var acc = vec4<f32>(0.0);
  for (var r = 0u; r < rows; r++) { acc += xs[r * quads + idx]; }
  out[idx] = acc * params.scale;
}`,
});

/**
 * Sums x viewed as [outer, kept, inner] over outer and inner, inner a multiple of 4 (a conv's
 * bias gradient: [N, C, H·W] over N and H·W), in one dispatch. A thread per output summing its
 * elements serially (a CPU adapter: a few dozen outputs already fill it, and no index needs a
 * division), or (`workgroupTree`, a GPU) a workgroup of 64 interleaved lanes per output whose
 * sums meet in a workgroup-memory tree.
 */
export const reduceSumMiddleKernel = defineKernel({
  name: 'reduce-sum-middle',
  uniforms: { outputs: 'u32', outer: 'u32', innerQuads: 'u32', scale: 'f32' },
  bindings: { xs: { access: 'read', type: 'vec4<f32>' }, out: 'read_write' },
  specialise: { workgroupTree: comptime.bool() },
  workgroupSize: REDUCE_WORKGROUP,
  body: ({ workgroupTree }, k) =>
    workgroupTree
      ? /* wgsl */ `
var<workgroup> laneSums: array<f32, ${REDUCE_WORKGROUP}>;
${k.entry}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // Workgroups past the end (a folded grid) sum a clamped output and write nothing: no early
  // return before a barrier.
  let group = wid.x + wid.y * nwg.x;
  let o = min(group, params.outputs - 1u);
  let quads = params.innerQuads;
  let count = params.outer * quads;
  let rowStride = params.outputs * quads;
  var acc = vec4<f32>(0.0);
  for (var j = lid; j < count; j += ${REDUCE_WORKGROUP}u) {
    let a = j / quads;
    acc += xs[a * rowStride + o * quads + (j - a * quads)];
  }
  laneSums[lid] = acc.x + acc.y + acc.z + acc.w;
  workgroupBarrier();
  for (var half = ${REDUCE_WORKGROUP / 2}u; half > 0u; half = half / 2u) {
    if (lid < half) { laneSums[lid] += laneSums[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u && group < params.outputs) { out[group] = laneSums[0] * params.scale; }
}`
      : /* wgsl */ `
${k.entry}
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * ${REDUCE_WORKGROUP}u;
  if (o >= params.outputs) { return; }
  let quads = params.innerQuads;
  let outer = params.outer;
  let rowStride = params.outputs * quads;
  var acc = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  for (var a = 0u; a < outer; a++) {
    let base = a * rowStride + o * quads;
    var q = 0u;
    for (; q + 1u < quads; q += 2u) {
      acc += xs[base + q];
      acc1 += xs[base + q + 1u];
    }
    if (q < quads) { acc += xs[base + q]; }
  }
  acc += acc1;
  out[o] = (acc.x + acc.y + acc.z + acc.w) * params.scale;
}`,
});
