// The ops a network is written in, behind one interface, so the same U-Net code runs on the
// GPU engine (Tensor), on the float64 CPU reference (RefVar, src/model/nn/reference-backend.ts)
// and on shapes alone (ShapeInfo, src/model/nn/plan.ts: the layer table, FLOPs and memory).

import {
  type Scalar,
  add,
  affine,
  attention,
  cast,
  concat,
  conv2d,
  dropout,
  groupNorm,
  linear,
  permute,
  reshape,
  silu,
  slice,
  type Tensor,
  timestepEmbedding,
  upsampleNearest2x,
} from '../../engine/index.ts';
import type { HalfWeights } from './half-weights.ts';
import type { Module, Parameter } from './module.ts';

export interface EmbeddingOptions {
  flipSinToCos: boolean;
  downscaleFreqShift: number;
}

export interface Backend<T> {
  /**
   * Runs `body`, the forward of layer `m`. The plan backend names the ops inside after `m` (and
   * shows a block, a module with a `blockLabel`, as one row over them); the others just run it.
   */
  module(m: Module, body: () => T): T;
  param(p: Parameter): T;
  shape(x: T): readonly number[];
  /** conv(x, w) + b, plus `add` (a residual, or a per-sample bias [N, Cout, 1, 1]) in the same pass. */
  conv2d(x: T, w: T, b: T, options: { stride: number; padding: number; add?: T | null }): T;
  /** GroupNorm, then SiLU if `silu`, then dropout if `dropout`, in one pass. */
  groupNorm(x: T, gamma: T, beta: T, options: { groups: number; eps: number; silu: boolean; dropout?: { p: number; seed: Scalar } | null }): T;
  linear(x: T, w: T, b: T): T;
  silu(x: T): T;
  add(a: T, b: T): T;
  /** scale·x + shift. */
  affine(x: T, scale: number, shift: number): T;
  /** Elements start … end − 1 of `axis`. */
  slice(x: T, axis: number, start: number, end: number): T;
  concat(xs: T[], axis: number): T;
  reshape(x: T, shape: number[]): T;
  permute(x: T, perm: number[]): T;
  attention(q: T, k: T, v: T): T;
  upsampleNearest2x(x: T): T;
  timestepEmbedding(t: T, dim: number, options: EmbeddingOptions): T;
  dropout(x: T, p: number, seed: Scalar): T;
}

export const gpuBackend: Backend<Tensor> = {
  module: (_m, body) => body(),
  param: (p) => p.value,
  shape: (x) => x.shape,
  conv2d: (x, w, b, o) => conv2d(x, w, b, o),
  groupNorm: (x, gamma, beta, o) => groupNorm(x, gamma, beta, o),
  linear: (x, w, b) => linear(x, w, b),
  silu,
  add: (a, b) => add(a, b),
  affine: (x, scale, shift) => affine(x, scale, shift),
  slice: (x, axis, start, end) => slice(x, axis, start, end),
  concat,
  reshape,
  permute,
  attention: (q, k, v) => attention(q, k, v),
  upsampleNearest2x,
  timestepEmbedding: (t, dim, o) => timestepEmbedding(t, dim, o),
  dropout: (x, p, seed) => dropout(x, p, seed),
};

/**
 * The GPU backend in half precision (sampling where the adapter has 'shader-f16'): parameters
 * from their f16 copies, so every activation is f16 too; the timestep embedding (of float
 * timesteps) is made in f32 and cast.
 */
export function halfBackend(weights: HalfWeights): Backend<Tensor> {
  return {
    ...gpuBackend,
    param: (p) => weights.get(p),
    timestepEmbedding: (t, dim, o) => cast(timestepEmbedding(t, dim, o), 'f16'),
  };
}
