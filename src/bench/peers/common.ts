// What the peer engines of `ddpm bench --peers` (TensorFlow.js, jax-js) share: the workload and
// engine interfaces, the rep loop (bench/WORKLOADS.md, "How a repetition is timed", as our own
// measure.ts does it) and the seeded inputs, drawn from the same streams as ours so that every
// layer workload sees the same numbers in all engines.

import { Rng, sizeOf } from '../../engine/index.ts';
import { summarize, type TimingSummary } from '../stats.ts';

export const PEER_NAMES = ['tfjs', 'jax'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/** One workload in a peer engine. `rep` issues the work, reads back the synced scalar and returns it. */
export interface PeerWorkload<S = unknown> {
  setup(): S | Promise<S>;
  /** Issues one repetition and reads back `Σ sum(output_i)` (or the loss); the scalar's value. */
  rep(state: S): Promise<number>;
  teardown(state: S): void;
  /** FLOPs of the peer's own network where it differs from ours (the U-Net rows). */
  flops?: number;
  /** What differs from our workload, if anything. */
  note?: string;
}

/** Lets workloads with different state types share one table. */
export function definePeerWorkload<S>(w: PeerWorkload<S>): PeerWorkload {
  return w as unknown as PeerWorkload;
}

export interface PeerEngine {
  name: PeerName;
  /** Library, version and backend, for the JSON. */
  describe(): Record<string, unknown>;
  /** The workload `name` of bench/WORKLOADS.md, or why this engine cannot express it. */
  workload(name: string): PeerWorkload | string;
  /** `await device.queue.onSubmittedWorkDone()` on the engine's own device. */
  idle(): Promise<void>;
}

export interface PeerMeasurement {
  ms: number;
  /** Peer ms / our ms: above 1, ours is faster. */
  ratio: number;
  first_call_ms: number;
  wall: TimingSummary;
  /** The synced scalar of the last timed rep (same inputs as ours on the layer workloads). */
  checksum: number;
  flops?: number;
  gflops?: number | null;
  /** Where the peer's network does other work than ours (the U-Net rows): our GFLOP/s over the peer's, each from its own FLOPs. */
  ratio_per_flop?: number;
  note?: string;
}

/** A peer's entry in a row: its measurement, or the reason it has none. */
export type PeerEntry = PeerMeasurement | { reason: string };

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Times `w` as our measure() does: `warmupReps` untimed reps (the first is `first_call_ms`), then
 * `timedReps` timed ones, each waiting for the engine's queue to be idle before the clock starts
 * and after the readback before it stops.
 */
export async function measurePeer(
  engine: PeerEngine,
  w: PeerWorkload,
  reps: { warmupReps: number; timedReps: number },
  oursMs: number,
  oursFlops?: number,
): Promise<PeerMeasurement> {
  const state = await w.setup();
  const times: number[] = [];
  let first = NaN;
  let checksum = NaN;
  try {
    for (let i = 0; i < reps.warmupReps + reps.timedReps; i++) {
      await engine.idle();
      const start = performance.now();
      checksum = await w.rep(state);
      await engine.idle();
      const ms = performance.now() - start;
      if (i === 0) first = ms;
      if (i >= reps.warmupReps) times.push(ms);
    }
  } finally {
    w.teardown(state);
    await engine.idle();
  }
  const wall = summarize(times);
  const m: PeerMeasurement = {
    ms: wall.median_ms,
    ratio: wall.median_ms / oursMs,
    first_call_ms: round3(first),
    wall,
    checksum,
  };
  if (w.flops !== undefined) {
    m.flops = w.flops;
    m.gflops = round3(w.flops / (wall.median_ms * 1e6));
    if (oursFlops !== undefined && oursFlops !== w.flops) m.ratio_per_flop = (wall.median_ms / w.flops) / (oursMs / oursFlops);
  }
  if (w.note) m.note = w.note;
  return m;
}

// ---- seeded inputs (the streams our workloads use) ------------------------------------------

/** Entries ~ N(mean, std²) from seeded stream `seed`, as our `randn`. */
export function normals(shape: readonly number[], seed: number, std = 1, mean = 0): Float32Array {
  return Float32Array.from(new Rng(seed).normals(sizeOf(shape), std, mean));
}

export function uniforms(n: number, seed: number, low: number, high: number): Float32Array {
  return Float32Array.from(new Rng(seed).uniforms(n, low, high));
}

/** Permutes the axes of a dense row-major array: out axis i is in axis perm[i]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < perm.length; i++) src += idx[i]! * inStrides[perm[i]!]!;
    out[o] = data[src]!;
    for (let i = idx.length - 1; i >= 0; i--) {
      if (++idx[i]! < outShape[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** NCHW → NHWC (tfjs's activations). */
export const nchwToNhwc = (data: Float32Array, shape: readonly number[]): Float32Array => permute(data, shape, [0, 2, 3, 1]);
/** A conv filter [Cout,Cin,k,k] → [k,k,Cin,Cout] (tfjs's filters). */
export const oihwToHwio = (data: Float32Array, shape: readonly number[]): Float32Array => permute(data, shape, [2, 3, 1, 0]);
