// What one benchmark workload is, and the helpers workloads share: seeded inputs and the
// synchronising scalar. A new workload is one `Workload` object added to BENCH_WORKLOADS.

import { add, Rng, type Shape, sizeOf, sum, tensor, type Tensor } from '../engine/index.ts';

export interface Workload<State = unknown> {
  /** The name in bench/WORKLOADS.md, e.g. 'matmul_1024'. */
  name: string;
  /** What is computed, in one line (goes into the JSON). */
  description: string;
  /** FLOPs counted as in WORKLOADS.md (conv and matmul work, 2 per multiply-add). */
  flops?: number;
  /** Bytes a kernel must read plus write at least, for bandwidth-bound workloads. */
  bytes?: number;
  /** Untimed repetitions before the timed ones; the first of them is `first_call_ms`. */
  warmupReps: number;
  timedReps: number;
  /** Creates inputs and parameters from fixed seeds (untimed). */
  setup(): State | Promise<State>;
  /**
   * Issues one repetition (nothing may wait for the GPU) and returns the tensors to sync on: the
   * output of a forward workload, the gradients of a gradient workload, the loss of a train step.
   * The bench then reads back `syncScalar(outputs)`; `sync_overhead_ms` is that sync alone on
   * resident tensors of the outputs' shapes. It runs inside a `scope()`: intermediates and
   * returned tensors made in it are freed after the sync is encoded (gradients kept in `.grad`
   * are untracked and survive).
   */
  run(state: State): Tensor | Tensor[];
  /** Frees what `setup` made. */
  teardown(state: State): void;
}

/** Lets workloads with different state types share one list. */
export function defineWorkload<State>(w: Workload<State>): Workload {
  return w as unknown as Workload;
}

/** `Σ_i sum(t_i)`: the scalar a repetition reads back, so all its GPU work is waited for. */
export function syncScalar(tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new Error('syncScalar: no tensors to sum');
  let total = sum(tensors[0]!);
  for (const t of tensors.slice(1)) total = add(total, sum(t));
  return total;
}

/** A tensor of `shape` with entries ~ N(0, std²) from the seeded stream `seed`. */
export function randn(shape: Shape, seed: number, std = 1): Tensor {
  return tensor(Float32Array.from(new Rng(seed).normals(sizeOf(shape), std)), shape);
}
