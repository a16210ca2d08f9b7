// Group normalisation over x viewed as [N, C, S] (S = the spatial extent), with an optional
// SiLU fused after the affine (the ResBlock's GN → SiLU). Channel c is in group c / (C/G), so a
// group of one sample is one contiguous run of M = (C/G)·S values starting at (n·G + g)·M.
//
// Forward, two kernels (as onnxruntime's GroupNormStats + apply):
//   stats: one workgroup per (n, g): mean, then Σ(x − mean) and Σ(x − mean)², so values far from
//          zero (x ≈ 1e3) lose no precision; stores (mean, rstd) for the backward.
//   apply: one thread per element: y = (x − mean)·rstd·gamma[c] + beta[c], then SiLU if asked.
// Backward, three kernels, with ŷ = dy (× SiLU′(z) when fused, z the pre-activation):
//   channel sums: one workgroup per (n, c): Σ_s ŷ and Σ_s ŷ·x̂;
//   reduce:       dgamma = Σ_n Σ ŷ·x̂, dbeta = Σ_n Σ ŷ, and per (n, g) the two means of
//                 dx̂ = ŷ·gamma that the input gradient needs;
//   input grad:   dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), one thread per element.

import { UniformLayout, declareBindings, linearMain, type KernelSpec, type StorageBinding } from './common.ts';

/** Threads that cooperate on one (n, g) in the stats kernel or one (n, c) in the channel sums. */
export const GROUP_NORM_REDUCE_WORKGROUP = 256;
/** Threads per workgroup of the one-thread-per-item kernels (apply, reduce, input grad). */
export const GROUP_NORM_ELEMENT_WORKGROUP = 256;

/** One layout for every group-norm kernel; `silu` is 0 or 1 (a flag, not a pipeline variant). */
export const groupNormUniforms = new UniformLayout([
  { name: 'batch', type: 'u32' },
  { name: 'channels', type: 'u32' },
  { name: 'spatial', type: 'u32' },
  { name: 'groups', type: 'u32' },
  { name: 'count', type: 'u32' },
  { name: 'silu', type: 'u32' },
  { name: 'eps', type: 'f32' },
]);

const HELPERS = /* wgsl */ `
fn channelsPerGroup() -> u32 { return params.channels / params.groups; }
fn sigmoid_(v: f32) -> f32 {
  if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
  let e = exp(v);
  return e / (1.0 + e);
}
/** dy times the derivative of the fused SiLU at pre-activation z (dy itself without SiLU). */
fn throughSilu(dy: f32, z: f32) -> f32 {
  if (params.silu == 0u) { return dy; }
  let s = sigmoid_(z);
  return dy * s * (1.0 + z * (1.0 - s));
}
`;

/** Workgroup sum of a vec2 (two sums for the price of one set of barriers). */
const WORKGROUP_SUM = /* wgsl */ `
var<workgroup> scratch: array<vec2<f32>, ${GROUP_NORM_REDUCE_WORKGROUP}>;
fn workgroupSum(v: vec2<f32>, lid: u32) -> vec2<f32> {
  scratch[lid] = v;
  workgroupBarrier();
  for (var stride = ${GROUP_NORM_REDUCE_WORKGROUP / 2}u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { scratch[lid] += scratch[lid + stride]; }
    workgroupBarrier();
  }
  let r = scratch[0];
  workgroupBarrier();
  return r;
}
`;

/** Entry of a workgroup-per-item kernel; items past the end clamp and still reach the barriers. */
const REDUCE_ENTRY = /* wgsl */ `
@compute @workgroup_size(${GROUP_NORM_REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * nwg.x;
  let at = min(item, params.count - 1u);`;

function spec(key: string, storage: StorageBinding[], body: string, workgroupSize: number): KernelSpec {
  const code = `${declareBindings(groupNormUniforms, storage)}
${HELPERS}
${body}`;
  return { key, code, storage, uniforms: groupNormUniforms, workgroupSize };
}

/** stats[2·ng] = mean, stats[2·ng + 1] = 1/sqrt(var + eps); `count` = N·G. */
export function groupNormStatsKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'stats', access: 'read_write' },
  ];
  return spec(
    'group-norm-stats',
    storage,
    `${WORKGROUP_SUM}
${REDUCE_ENTRY}
  let size = channelsPerGroup() * params.spatial;
  let base = at * size;
  var s = 0.0;
  for (var i = lid; i < size; i += ${GROUP_NORM_REDUCE_WORKGROUP}u) { s += xs[base + i]; }
  let m = f32(size);
  let rough = workgroupSum(vec2<f32>(s, 0.0), lid).x / m;
  // Second pass about the rough mean; Σd corrects the mean for its own rounding.
  var d = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < size; i += ${GROUP_NORM_REDUCE_WORKGROUP}u) {
    let t = xs[base + i] - rough;
    d += vec2<f32>(t, t * t);
  }
  d = workgroupSum(d, lid) / m;
  if (item >= params.count || lid != 0u) { return; }
  let variance = max(d.y - d.x * d.x, 0.0);
  stats[2u * item] = rough + d.x;
  stats[2u * item + 1u] = inverseSqrt(variance + params.eps);
}`,
    GROUP_NORM_REDUCE_WORKGROUP,
  );
}

/** y = (x − mean)·rstd·gamma[c] + beta[c] (then SiLU); `count` = N·C·S. */
export function groupNormApplyKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'gamma', access: 'read' },
    { name: 'beta', access: 'read' },
    { name: 'stats', access: 'read' },
    { name: 'ys', access: 'read_write' },
  ];
  return spec(
    'group-norm-apply',
    storage,
    `${linearMain(GROUP_NORM_ELEMENT_WORKGROUP, 'params.count')}
  let c = (idx / params.spatial) % params.channels;
  let ng = idx / (channelsPerGroup() * params.spatial);
  let z = (xs[idx] - stats[2u * ng]) * stats[2u * ng + 1u] * gamma[c] + beta[c];
  ys[idx] = select(z, z * sigmoid_(z), params.silu != 0u);
}`,
    GROUP_NORM_ELEMENT_WORKGROUP,
  );
}

/** sums[2·nc] = Σ_s ŷ, sums[2·nc + 1] = Σ_s ŷ·x̂ for nc = n·C + c; `count` = N·C. */
export function groupNormChannelSumsKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'dys', access: 'read' },
    { name: 'gamma', access: 'read' },
    { name: 'beta', access: 'read' },
    { name: 'stats', access: 'read' },
    { name: 'sums', access: 'read_write' },
  ];
  return spec(
    'group-norm-grad-channel-sums',
    storage,
    `${WORKGROUP_SUM}
${REDUCE_ENTRY}
  let c = at % params.channels;
  let ng = at / channelsPerGroup();
  let mean = stats[2u * ng];
  let rstd = stats[2u * ng + 1u];
  let base = at * params.spatial;
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < params.spatial; i += ${GROUP_NORM_REDUCE_WORKGROUP}u) {
    let xhat = (xs[base + i] - mean) * rstd;
    let g = throughSilu(dys[base + i], xhat * gamma[c] + beta[c]);
    acc += vec2<f32>(g, g * xhat);
  }
  acc = workgroupSum(acc, lid);
  if (item >= params.count || lid != 0u) { return; }
  sums[2u * item] = acc.x;
  sums[2u * item + 1u] = acc.y;
}`,
    GROUP_NORM_REDUCE_WORKGROUP,
  );
}

/**
 * Two reductions of the channel sums in one launch (`count` = C + N·G threads):
 * threads [0, C) sum over the batch into dgamma[c] and dbeta[c]; threads [C, C + N·G) sum over
 * their group's channels into coef[2·ng] = mean(dx̂) and coef[2·ng + 1] = mean(dx̂·x̂).
 */
export function groupNormGradReduceKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'sums', access: 'read' },
    { name: 'gamma', access: 'read' },
    { name: 'dgamma', access: 'read_write' },
    { name: 'dbeta', access: 'read_write' },
    { name: 'coef', access: 'read_write' },
  ];
  return spec(
    'group-norm-grad-reduce',
    storage,
    `${linearMain(GROUP_NORM_ELEMENT_WORKGROUP, 'params.count')}
  let C = params.channels;
  if (idx < C) {
    var acc = vec2<f32>(0.0, 0.0);
    for (var n = 0u; n < params.batch; n++) {
      let at = 2u * (n * C + idx);
      acc += vec2<f32>(sums[at], sums[at + 1u]);
    }
    dbeta[idx] = acc.x;
    dgamma[idx] = acc.y;
    return;
  }
  let ng = idx - C;
  let cg = channelsPerGroup();
  let first = (ng / params.groups) * C + (ng % params.groups) * cg;
  var acc = vec2<f32>(0.0, 0.0);
  for (var k = 0u; k < cg; k++) {
    let at = 2u * (first + k);
    acc += gamma[(first + k) % C] * vec2<f32>(sums[at], sums[at + 1u]);
  }
  let m = f32(cg * params.spatial);
  coef[2u * ng] = acc.x / m;
  coef[2u * ng + 1u] = acc.y / m;
}`,
    GROUP_NORM_ELEMENT_WORKGROUP,
  );
}

/** dx = rstd·(ŷ·gamma[c] − mean(dx̂) − x̂·mean(dx̂·x̂)); `count` = N·C·S. */
export function groupNormInputGradKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'dys', access: 'read' },
    { name: 'gamma', access: 'read' },
    { name: 'beta', access: 'read' },
    { name: 'stats', access: 'read' },
    { name: 'coef', access: 'read' },
    { name: 'dxs', access: 'read_write' },
  ];
  return spec(
    'group-norm-grad-input',
    storage,
    `${linearMain(GROUP_NORM_ELEMENT_WORKGROUP, 'params.count')}
  let c = (idx / params.spatial) % params.channels;
  let ng = idx / (channelsPerGroup() * params.spatial);
  let rstd = stats[2u * ng + 1u];
  let xhat = (xs[idx] - stats[2u * ng]) * rstd;
  let dxhat = throughSilu(dys[idx], xhat * gamma[c] + beta[c]) * gamma[c];
  dxs[idx] = rstd * (dxhat - coef[2u * ng] - xhat * coef[2u * ng + 1u]);
}`,
    GROUP_NORM_ELEMENT_WORKGROUP,
  );
}
