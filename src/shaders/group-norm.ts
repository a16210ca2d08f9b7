// Group normalisation over x viewed as [N, C, S] (S = the spatial extent), with an optional
// SiLU fused after the affine and an optional dropout after that (the ResBlock's GN → SiLU →
// dropout, one pass): the dropout mask is the dropout kernel's own hash of (seed, element index),
// so fused and separate give the same values. Channel c is in group c / (C/G), so the
// group g of sample n is one contiguous run of M = (C/G)·S values starting at (n·G + g)·M.
//
// Every kernel runs one thread per item, without workgroup memory or barriers: on SwiftShader a
// workgroup-per-group tree reduction (256 threads) measured 20–50× slower than this layout. A
// "row" (a group's M values, or one channel plane's S values) is split among T = ⌈len/CHUNK⌉
// threads; thread k of a row takes elements k, k + T, k + 2T, … (adjacent threads read adjacent
// addresses, and the index arithmetic is done once per thread, not once per element).
//
// Forward (onnxruntime's two-pass GroupNormStats + apply, with the stats split in two):
//   stats partials: per (n, g, k), in one read: Σ(x − m_k) and Σ(x − m_k)² about a shift m_k
//                   (the chunk's first value);
//   stats combine:  per (n, g): Chan's merge of the chunks into (center, offset, rstd), where
//                   mean = center + offset is kept in two parts because one f32 near 1e3 would
//                   round the mean by up to 3e-5 (x − center is exact there; offset is small);
//   apply:          y = (x − mean)·rstd·gamma[c] + beta[c], then SiLU if asked.
// Backward, with ŷ = dy (× SiLU′(z) when fused, z the pre-activation) and x̂ the normalised x:
//   channel sums:   per (n, c, k): Σ ŷ and Σ ŷ·x̂ over the thread's share of the plane, as two
//                   planes [2][N·C·T] (all Σ ŷ first);
//   reduce:         dgamma = Σ ŷ·x̂, dbeta = Σ ŷ over (n, k), and per (n, g) the two means of
//                   dx̂ = ŷ·gamma that the input gradient needs. When N·T is long (a big batch
//                   of large planes) dgamma and dbeta come from the engine's parallel sum over
//                   (n, k) instead of one serial loop per channel;
//   input grad:     dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).

import { SIGMOID_WGSL } from './common.ts';
import { DROPOUT_HASH_WGSL } from './dropout.ts';
import { comptime, defineKernel, ELEM_IN, ELEM_OUT } from './kernel.ts';

export const GROUP_NORM_WORKGROUP = 64;

/** Elements of a row each thread handles (at most). */
export const GROUP_NORM_CHUNK = 32;

/** Threads that share a row of `length` elements. */
export function threadsPerRow(length: number): number {
  return Math.max(1, Math.ceil(length / GROUP_NORM_CHUNK));
}

/**
 * One set of uniforms for every group-norm kernel. `count` threads run, `rowThreads` of them
 * per row (threadsPerRow of the kernel's rows: groups for the stats, channel planes otherwise).
 * Whether SiLU and dropout are fused is a specialisation, not a uniform: a branch per element
 * costs SwiftShader a per-lane merge of everything the loop carries.
 */
const GROUP_NORM_UNIFORMS = {
  batch: 'u32',
  channels: 'u32',
  spatial: 'u32',
  groups: 'u32',
  count: 'u32',
  rowThreads: 'u32',
  eps: 'f32',
  // Dropout after the activation (when the specialisation has it): the stream key, the drop
  // threshold and 1/(1 − p).
  dropoutKey: 'u32',
  dropoutThreshold: 'u32',
  dropoutScale: 'f32',
} as const;

const HELPERS = /* wgsl */ `
fn channelsPerGroup() -> u32 { return params.channels / params.groups; }
/** How many of k, k + T, k + 2T, … lie below len (k < len). */
fn shareOf(len: u32, k: u32) -> u32 { return (len - k + params.rowThreads - 1u) / params.rowThreads; }`;

/** Which ops a specialisation fuses after the affine: SiLU, then dropout. */
const FUSED_SPEC = { silu: comptime.bool(), dropout: comptime.bool() };
interface Fusion {
  silu: boolean;
  dropout: boolean;
}

/**
 * The fused activation and dropout of one specialisation: `dropped` (dropout at element i, its
 * own backward) and `throughSilu` (dy times SiLU′ at the pre-activation z), identities where
 * not fused. Dropout's uniforms are read once per thread (`fusedOps`): SwiftShader reloads a
 * uniform at every use.
 */
const fusedHelpers = ({ silu, dropout }: Fusion): string => /* wgsl */ `${SIGMOID_WGSL}${dropout ? DROPOUT_HASH_WGSL : ''}
struct Fused { key: u32, threshold: u32, scale: f32 }
fn fusedOps() -> Fused {
  return Fused(params.dropoutKey, params.dropoutThreshold, params.dropoutScale);
}
fn dropped(v: f32, i: u32, f: Fused) -> f32 {
  return ${dropout ? 'select(0.0, v * f.scale, dropoutBits(f.key, i) >= f.threshold)' : 'v'};
}
fn throughSilu(dy: f32, z: f32) -> f32 {
  ${silu ? 'let s = sigmoid_(z);\n  return dy * s * (1.0 + z * (1.0 - s));' : 'return dy;'}
}`;

/**
 * Start of the per-(n, c, k) kernels: the plane n·C + c, the thread's first element, its
 * group's statistics, and `end`, one past the plane's last element.
 */
const PLANE_PRELUDE = /* wgsl */ `
  let plane = idx / params.rowThreads;
  let first = plane * params.spatial + idx % params.rowThreads;
  // An invocation past the count (idx clamped, not returned) runs no element.
  let end = select(first, (plane + 1u) * params.spatial, live);
  let c = plane % params.channels;
  let ng = plane / channelsPerGroup();
  let step = params.rowThreads;
  let gammaC = f32(gamma[c]);
  let betaC = f32(beta[c]);
  let fused = fusedOps();
  let center = stats[3u * ng];
  let offset = stats[3u * ng + 1u];
  let rstd = stats[3u * ng + 2u];`;

/** The kernel's code: the helpers (and those of a fusion), the 1-D entry point and `body`. */
const code = (main: string, body: string, fusion?: Fusion): string => `${HELPERS}
${fusion ? fusedHelpers(fusion) : ''}
${main}
${body}
}`;

/** partials[3·(ng·T + k) ..] = (m_k, Σ(x − m_k), Σ(x − m_k)²) about a shift m_k; `count` = N·G·T. */
export const groupNormPartialStatsKernel = defineKernel({
  name: 'group-norm-partial-stats',
  uniforms: GROUP_NORM_UNIFORMS,
  bindings: { xs: ELEM_IN, partials: 'read_write' },
  workgroupSize: GROUP_NORM_WORKGROUP,
  invocations: 'count',
  body: (_, k) =>
    code(
      k.mainClamped,
      `  let size = channelsPerGroup() * params.spatial;
  let k = idx % params.rowThreads;
  let first = (idx / params.rowThreads) * size + k;
  let end = select(first, first - k + size, live);
  // One read of x: sums about a shift m, the chunk's first value (the shifted-data algorithm;
  // the combine kernel takes any shift, not only the chunk's mean).
  let m = f32(xs[first]);
  let step = params.rowThreads;
  var d = vec2<f32>(0.0, 0.0);
  for (var i = first; i < end; i += step) {
    let t = f32(xs[i]) - m;
    d += vec2<f32>(t, t * t);
  }
  if (live) {
    partials[3u * idx] = m;
    partials[3u * idx + 1u] = d.x;
    partials[3u * idx + 2u] = d.y;
  }`,
    ),
});

/** Invocations of a workgroup of the one-dispatch statistics kernel (a power of two). */
export const GROUP_NORM_STATS_WORKGROUP = 128;

/**
 * stats[3·ng ..] = (center, offset, 1/sqrt(var + eps)) in one dispatch, for GPUs: workgroup ng
 * (of `count` = N·G, on a folded grid) sums its group's values about their first one, a strided
 * share per invocation, then a tree in workgroup memory; center is that first value.
 */
export const groupNormStatsKernel = defineKernel({
  name: 'group-norm-stats',
  uniforms: GROUP_NORM_UNIFORMS,
  bindings: { xs: ELEM_IN, stats: 'read_write' },
  workgroupSize: GROUP_NORM_STATS_WORKGROUP,
  body: () => /* wgsl */ `${HELPERS}
const WG = ${GROUP_NORM_STATS_WORKGROUP}u;
var<workgroup> partial: array<vec2<f32>, WG>;

@compute @workgroup_size(${GROUP_NORM_STATS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let ng = wid.x + wid.y * nwg.x;
  // The same for the whole workgroup: no invocation returns before a barrier alone.
  if (ng >= params.count) { return; }
  let size = channelsPerGroup() * params.spatial;
  let first = ng * size;
  let center = f32(xs[first]);
  var d = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < size; i += WG) {
    let t = f32(xs[first + i]) - center;
    d += vec2<f32>(t, t * t);
  }
  partial[lid] = d;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span = span / 2u) {
    if (lid < span) {
      partial[lid] += partial[lid + span];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let n = f32(size);
    let offset = partial[0].x / n;
    stats[3u * ng] = center;
    stats[3u * ng + 1u] = offset;
    stats[3u * ng + 2u] = inverseSqrt(max(partial[0].y / n - offset * offset, 0.0) + params.eps);
  }
}`,
});

/** stats[3·ng ..] = (center, offset, 1/sqrt(var + eps)), mean = center + offset; `count` = N·G. */
export const groupNormCombineStatsKernel = defineKernel({
  name: 'group-norm-combine-stats',
  uniforms: GROUP_NORM_UNIFORMS,
  bindings: { partials: 'read', stats: 'read_write' },
  workgroupSize: GROUP_NORM_WORKGROUP,
  invocations: 'count',
  body: (_, k) =>
    code(
      k.main,
      `  let size = channelsPerGroup() * params.spatial;
  let at = 3u * idx * params.rowThreads;
  let center = partials[at];
  var total = 0.0;
  for (var k = 0u; k < params.rowThreads; k++) {
    let p = at + 3u * k;
    total += f32(shareOf(size, k)) * (partials[p] - center) + partials[p + 1u];
  }
  let offset = total / f32(size);
  // Σ over chunks of Σ(x − chunk mean)² plus n_k·(chunk mean − mean)², all about the center.
  var m2 = 0.0;
  for (var k = 0u; k < params.rowThreads; k++) {
    let p = at + 3u * k;
    let n = f32(shareOf(size, k));
    let sumD = partials[p + 1u];
    let dk = (partials[p] - center) + sumD / n - offset;
    m2 += partials[p + 2u] - sumD * sumD / n + n * dk * dk;
  }
  stats[3u * idx] = center;
  stats[3u * idx + 1u] = offset;
  stats[3u * idx + 2u] = inverseSqrt(max(m2 / f32(size), 0.0) + params.eps);`,
    ),
});

/** y = (x − mean)·rstd·gamma[c] + beta[c] (then SiLU); `count` = N·C·T. */
export const groupNormApplyKernel = defineKernel({
  name: 'group-norm-apply',
  uniforms: GROUP_NORM_UNIFORMS,
  // x, gamma, beta and y in f16 when sampling in half precision; the statistics stay f32.
  bindings: { xs: ELEM_IN, gamma: ELEM_IN, beta: ELEM_IN, stats: 'read', ys: ELEM_OUT },
  specialise: FUSED_SPEC,
  workgroupSize: GROUP_NORM_WORKGROUP,
  invocations: 'count',
  body: (fusion, k) =>
    code(
      k.mainClamped,
      `${PLANE_PRELUDE}
  let scale = rstd * gammaC;
  for (var i = first; i < end; i += step) {
    let z = ((f32(xs[i]) - center) - offset) * scale + betaC;
    ys[i] = Elem(dropped(${fusion.silu ? 'z * sigmoid_(z)' : 'z'}, i, fused));
  }`,
      fusion,
    ),
});

/** sums[idx] = Σ ŷ, sums[count + idx] = Σ ŷ·x̂ over thread idx = (n·C + c)·T + k; `count` = N·C·T. */
export const groupNormChannelSumsKernel = defineKernel({
  name: 'group-norm-grad-channel-sums',
  uniforms: GROUP_NORM_UNIFORMS,
  bindings: { xs: 'read', dys: 'read', gamma: 'read', beta: 'read', stats: 'read', sums: 'read_write' },
  specialise: FUSED_SPEC,
  workgroupSize: GROUP_NORM_WORKGROUP,
  invocations: 'count',
  body: (fusion, k) =>
    code(
      k.mainClamped,
      `${PLANE_PRELUDE}
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = first; i < end; i += step) {
    let xhat = ((xs[i] - center) - offset) * rstd;
    let g = throughSilu(dropped(dys[i], i, fused), xhat * gammaC + betaC);
    acc += vec2<f32>(g, g * xhat);
  }
  if (live) {
    sums[idx] = acc.x;
    sums[params.count + idx] = acc.y;
  }`,
      fusion,
    ),
});

/**
 * Two reductions of the channel sums in one launch (`count` = C + N·G threads; the sums hold
 * `planes` = N·C·T pairs): threads [0, C) sum over the batch and the plane's threads into
 * dgamma[c] and dbeta[c], or copy them from `totals` ([2][C]: Σ ŷ, Σ ŷ·x̂) where the op summed
 * them in parallel; threads [C, C + N·G) sum over their group's planes into coef[2·ng] =
 * mean(dx̂) and coef[2·ng + 1] = mean(dx̂·x̂).
 */
export const groupNormGradReduceKernel = defineKernel({
  name: 'group-norm-grad-reduce',
  uniforms: { ...GROUP_NORM_UNIFORMS, planes: 'u32' },
  bindings: {
    sums: 'read',
    totals: { access: 'read', optional: true },
    gamma: 'read',
    dgamma: 'read_write',
    dbeta: 'read_write',
    coef: 'read_write',
  },
  workgroupSize: GROUP_NORM_WORKGROUP,
  invocations: 'count',
  body: (_, k) =>
    code(
      k.main,
      `  let C = params.channels;
  let T = params.rowThreads;
  let P = params.planes;
  if (idx < C) {
${
  k.has.totals
    ? `    dbeta[idx] = totals[idx];
    dgamma[idx] = totals[C + idx];`
    : `    var acc = vec2<f32>(0.0, 0.0);
    for (var n = 0u; n < params.batch; n++) {
      let at = (n * C + idx) * T;
      for (var k = 0u; k < T; k++) { acc += vec2<f32>(sums[at + k], sums[P + at + k]); }
    }
    dbeta[idx] = acc.x;
    dgamma[idx] = acc.y;`
}
    return;
  }
  let ng = idx - C;
  let cg = channelsPerGroup();
  let firstChannel = (ng % params.groups) * cg;
  let firstPlane = (ng / params.groups) * C + firstChannel;
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = 0u; j < cg; j++) {
    let at = (firstPlane + j) * T;
    var plane = vec2<f32>(0.0, 0.0);
    for (var k = 0u; k < T; k++) { plane += vec2<f32>(sums[at + k], sums[P + at + k]); }
    acc += gamma[firstChannel + j] * plane;
  }
  let m = f32(cg * params.spatial);
  coef[2u * ng] = acc.x / m;
  coef[2u * ng + 1u] = acc.y / m;`,
    ),
});

/** dx = rstd·(ŷ·gamma[c] − mean(dx̂) − x̂·mean(dx̂·x̂)); `count` = N·C·T. */
export const groupNormInputGradKernel = defineKernel({
  name: 'group-norm-grad-input',
  uniforms: GROUP_NORM_UNIFORMS,
  bindings: {
    xs: 'read',
    dys: 'read',
    gamma: 'read',
    beta: 'read',
    stats: 'read',
    coef: 'read',
    dxs: 'read_write',
  },
  specialise: FUSED_SPEC,
  workgroupSize: GROUP_NORM_WORKGROUP,
  invocations: 'count',
  body: (fusion, k) =>
    code(
      k.mainClamped,
      `${PLANE_PRELUDE}
  let meanDxhat = coef[2u * ng];
  let meanDxhatXhat = coef[2u * ng + 1u];
  for (var i = first; i < end; i += step) {
    let xhat = ((xs[i] - center) - offset) * rstd;
    let dxhat = throughSilu(dropped(dys[i], i, fused), xhat * gammaC + betaC) * gammaC;
    dxs[i] = rstd * (dxhat - meanDxhat - xhat * meanDxhatXhat);
  }`,
      fusion,
    ),
});
