// groupNorm: PyTorch's GroupNorm (biased variance, affine gamma/beta), with an optional fused
// SiLU after the affine, and its backward.
// Kernels: src/shaders/group-norm.ts. Reference: src/engine/reference/group-norm.ts.
// Checks: src/engine/checks/group-norm.ts.

import {
  groupNormApplyKernel,
  groupNormChannelSumsKernel,
  groupNormCombineStatsKernel,
  groupNormGradReduceKernel,
  groupNormInputGradKernel,
  groupNormPartialStatsKernel,
  groupNormStatsKernel,
  threadsPerRow,
} from '../../shaders/group-norm.ts';
import { dropoutKey, dropoutThreshold } from '../../shaders/dropout.ts';
import { mapScalar, valueOf, type Scalar } from '../live.ts';
import { record } from '../tape.ts';
import { fmt, sameShape } from '../shape.ts';
import { assertSameDtype, assertTensor, emptyTensor, zeros, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';
import { reduceSumRaw } from './raw/reduce.ts';
import { foldedGrid } from '../../shaders/common.ts';
import { runtime } from '../runtime.ts';

/**
 * Partial sums per channel (batch × plane threads) the backward's reduce kernel adds serially;
 * past this the parallel sum takes them (ddpm-cifar10 at batch 128: 4096).
 */
export const SERIAL_CHANNEL_SUM_MAX = 512;

export interface GroupNormOptions {
  /** Number of groups; must divide the channel count. */
  groups: number;
  /** Added to the variance before the square root (PyTorch's default 1e-5). */
  eps?: number;
  /** Apply SiLU after the affine, in the same kernel (GroupNorm → SiLU). */
  silu?: boolean;
  /**
   * Dropout after the activation, in the same kernel: the mask `dropout(y, p, seed)` would draw
   * (the same hash of seed and element index). Absent or p = 0: none.
   */
  dropout?: { p: number; seed: Scalar } | null;
}

/** x as [N, C, S]: everything after the channel axis is the spatial extent. */
interface GroupNormDims {
  batch: number;
  channels: number;
  spatial: number;
  groups: number;
}

function checkArguments(x: Tensor, gamma: Tensor, beta: Tensor, options: GroupNormOptions): GroupNormDims {
  assertTensor('groupNorm', 'x', x);
  assertTensor('groupNorm', 'gamma', gamma);
  assertTensor('groupNorm', 'beta', beta);
  assertSameDtype('groupNorm', { x, gamma, beta });
  if (x.rank < 2) throw new Error(`groupNorm: x ${fmt(x.shape)} needs at least two axes [N, C, ...]`);
  const [batch, channels] = x.shape as [number, number];
  const { groups, eps = 1e-5 } = options;
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new Error(`groupNorm: groups ${groups} does not divide the ${channels} channels of x ${fmt(x.shape)}`);
  }
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`groupNorm: eps ${eps} must be a finite number ≥ 0`);
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (!sameShape(t.shape, [channels])) {
      throw new Error(`groupNorm: ${name} ${fmt(t.shape)} must be [${channels}] for x ${fmt(x.shape)}`);
    }
  }
  return { batch, channels, spatial: x.size / Math.max(1, batch * channels), groups };
}

/** The kernels' dropout uniforms: null (off), or the dropout kernel's key, threshold and scale for (p, seed). */
function dropoutUniforms(d: { p: number; seed: Scalar } | null) {
  if (d === null || d.p === 0) return null;
  if (!(d.p > 0 && d.p < 1)) throw new Error(`groupNorm: dropout p must be in [0, 1), got ${d.p}`);
  const seed = valueOf(d.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(`groupNorm: dropout seed must be an integer in [0, 2^32), got ${seed}`);
  }
  return { dropoutKey: mapScalar(d.seed, dropoutKey), dropoutThreshold: dropoutThreshold(d.p), dropoutScale: 1 / (1 - d.p) };
}

/**
 * GroupNorm of x [N, C, ...] with `groups` groups: per sample and group, (x − mean)/sqrt(var + eps)
 * over the group's C/G channels and all positions, then ·gamma[c] + beta[c] (then SiLU if `silu`,
 * then dropout if `dropout`).
 */
export function groupNorm(x: Tensor, gamma: Tensor, beta: Tensor, options: GroupNormOptions): Tensor {
  const dims = checkArguments(x, gamma, beta, options);
  const { batch, channels, spatial, groups } = dims;
  const silu = options.silu ?? false;
  const drop = dropoutUniforms(options.dropout ?? null);
  const op = `groupNorm${silu ? '+silu' : ''}${drop ? '+dropout' : ''}`;
  const fusion = { silu, dropout: drop !== null };
  const base = { ...dims, eps: options.eps ?? 1e-5, ...(drop ?? { dropoutKey: 0, dropoutThreshold: 0, dropoutScale: 1 }) };
  /** The uniforms of a launch of `count` threads, `rowThreads` of them per row. */
  const threads = (count: number, rowThreads: number) => ({ ...base, count, rowThreads });
  const groupThreads = threadsPerRow((channels / groups) * spatial);
  const planeThreads = threadsPerRow(spatial);
  const planeCount = batch * channels * planeThreads;

  // (center, offset, rstd) per (n, g): kept by the backward closure, freed by the caller's scope.
  const stats = emptyTensor([batch * groups, 3], `${op}-stats`);
  const y = emptyTensor(x.shape, op, x.dtype);
  if (x.size > 0) {
    if (runtime().tuning.groupNormWorkgroupStats) {
      // A GPU: one workgroup per (sample, group), one dispatch.
      launch(groupNormStatsKernel, {}, { xs: x, stats }, threads(batch * groups, groupThreads), foldedGrid(batch * groups));
    } else {
      const partialCount = batch * groups * groupThreads;
      const partials = emptyTensor([partialCount, 3], `${op}-partial-stats`);
      launch(groupNormPartialStatsKernel, {}, { xs: x, partials }, threads(partialCount, groupThreads));
      launch(groupNormCombineStatsKernel, {}, { partials, stats }, threads(batch * groups, groupThreads));
      partials.dispose();
    }
    launch(groupNormApplyKernel, fusion, { xs: x, gamma, beta, stats, ys: y }, threads(planeCount, planeThreads));
  }

  return record(y, op, [x, gamma, beta], (dy) => {
    const dgamma = x.size > 0 ? emptyTensor([channels], `${op}-grad-gamma`) : zeros([channels]);
    const dbeta = x.size > 0 ? emptyTensor([channels], `${op}-grad-beta`) : zeros([channels]);
    const dx = x.requiresGrad ? emptyTensor(x.shape, `${op}-grad-x`) : null;
    if (x.size === 0) return [dx, dgamma, dbeta];
    const sums = emptyTensor([2, batch, channels, planeThreads], `${op}-grad-sums`);
    const coef = emptyTensor([batch * groups, 2], `${op}-grad-coef`);
    const planes = threads(planeCount, planeThreads);
    launch(groupNormChannelSumsKernel, fusion, { xs: x, dys: dy, gamma, beta, stats, sums }, planes);
    // A channel's dgamma/dbeta sum N·T partial sums: serially in the reduce kernel while short,
    // else with the engine's parallel sum (one thread per channel would leave a GPU idle).
    const totals = batch * planeThreads > SERIAL_CHANNEL_SUM_MAX ? reduceSumRaw(sums, [1, 3], 1) : null;
    launch(
      groupNormGradReduceKernel,
      {},
      { sums, totals, gamma, dgamma, dbeta, coef },
      { ...threads(channels + batch * groups, planeThreads), planes: planeCount },
    );
    totals?.dispose();
    if (dx) launch(groupNormInputGradKernel, fusion, { xs: x, dys: dy, gamma, beta, stats, coef, dxs: dx }, planes);
    sums.dispose();
    coef.dispose();
    return [dx, dgamma, dbeta];
  });
}
