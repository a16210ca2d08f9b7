// groupNorm: PyTorch's GroupNorm (biased variance, affine gamma/beta), with an optional fused
// SiLU after the affine, and its backward.
// Kernels: src/shaders/group-norm.ts. Reference: src/engine/reference/group-norm.ts.
// Checks: src/engine/checks/group-norm.ts.

import type { KernelSpec, UniformValues } from '../../shaders/common.ts';
import {
  GROUP_NORM_WORKGROUP,
  groupNormApplyKernel,
  groupNormChannelSumsKernel,
  groupNormCombineStatsKernel,
  groupNormGradReduceKernel,
  groupNormInputGradKernel,
  groupNormPartialStatsKernel,
  threadsPerRow,
} from '../../shaders/group-norm.ts';
import { record } from '../tape.ts';
import { fmt, sameShape } from '../shape.ts';
import { assertTensor, emptyTensor, zeros, type Tensor } from '../tensor.ts';
import { launchLinear } from './launch.ts';

export interface GroupNormOptions {
  /** Number of groups; must divide the channel count. */
  groups: number;
  /** Added to the variance before the square root (PyTorch's default 1e-5). */
  eps?: number;
  /** Apply SiLU after the affine, in the same kernel (GroupNorm → SiLU). */
  silu?: boolean;
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

/** Encodes one group-norm kernel: `count` threads, `rowThreads` of them per row. */
function launch(
  key: string,
  build: () => KernelSpec,
  uniforms: UniformValues,
  count: number,
  rowThreads: number,
  tensors: readonly Tensor[],
): void {
  const buffers = tensors.map((t) => t.buffer);
  launchLinear(key, build, { ...uniforms, count, rowThreads }, buffers, count, GROUP_NORM_WORKGROUP);
}

/**
 * GroupNorm of x [N, C, ...] with `groups` groups: per sample and group, (x − mean)/sqrt(var + eps)
 * over the group's C/G channels and all positions, then ·gamma[c] + beta[c] (then SiLU if `silu`).
 */
export function groupNorm(x: Tensor, gamma: Tensor, beta: Tensor, options: GroupNormOptions): Tensor {
  const dims = checkArguments(x, gamma, beta, options);
  const { batch, channels, spatial, groups } = dims;
  const silu = options.silu ?? false;
  const op = silu ? 'groupNorm+silu' : 'groupNorm';
  const uniforms: UniformValues = { ...dims, silu: silu ? 1 : 0, eps: options.eps ?? 1e-5 };
  const groupThreads = threadsPerRow((channels / groups) * spatial);
  const planeThreads = threadsPerRow(spatial);
  const planeCount = batch * channels * planeThreads;

  // (center, offset, rstd) per (n, g): kept by the backward closure, freed by the caller's scope.
  const stats = emptyTensor([batch * groups, 3], `${op}-stats`);
  const y = emptyTensor(x.shape, op);
  if (x.size > 0) {
    const partialCount = batch * groups * groupThreads;
    const partials = emptyTensor([partialCount, 3], `${op}-partial-stats`);
    launch('group-norm-partial-stats', groupNormPartialStatsKernel, uniforms, partialCount, groupThreads, [x, partials]);
    launch('group-norm-combine-stats', groupNormCombineStatsKernel, uniforms, batch * groups, groupThreads, [
      partials,
      stats,
    ]);
    partials.dispose();
    launch('group-norm-apply', groupNormApplyKernel, uniforms, planeCount, planeThreads, [x, gamma, beta, stats, y]);
  }

  return record(y, op, [x, gamma, beta], (dy) => {
    const dgamma = x.size > 0 ? emptyTensor([channels], `${op}-grad-gamma`) : zeros([channels]);
    const dbeta = x.size > 0 ? emptyTensor([channels], `${op}-grad-beta`) : zeros([channels]);
    const dx = x.requiresGrad ? emptyTensor(x.shape, `${op}-grad-x`) : null;
    if (x.size === 0) return [dx, dgamma, dbeta];
    const sums = emptyTensor([planeCount, 2], `${op}-grad-sums`);
    const coef = emptyTensor([batch * groups, 2], `${op}-grad-coef`);
    launch('group-norm-grad-channel-sums', groupNormChannelSumsKernel, uniforms, planeCount, planeThreads, [
      x,
      dy,
      gamma,
      beta,
      stats,
      sums,
    ]);
    launch('group-norm-grad-reduce', groupNormGradReduceKernel, uniforms, channels + batch * groups, planeThreads, [
      sums,
      gamma,
      dgamma,
      dbeta,
      coef,
    ]);
    if (dx) {
      launch('group-norm-grad-input', groupNormInputGradKernel, uniforms, planeCount, planeThreads, [
        x,
        dy,
        gamma,
        beta,
        stats,
        coef,
        dx,
      ]);
    }
    sums.dispose();
    coef.dispose();
    return [dx, dgamma, dbeta];
  });
}
