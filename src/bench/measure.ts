// Times one workload as bench/WORKLOADS.md prescribes ("How a repetition is timed"): untimed
// warm-up reps first, then timed reps. Each rep is timed on the wall clock and, where the device
// has timestamp queries, on the GPU as well.

import { liveTensorCount, type PendingPassTimings, runtime, scope, type Tensor } from '../engine/index.ts';
import { summarize, type TimingSummary } from './stats.ts';
import { syncScalar, type Workload } from './workload.ts';

export interface GpuTimingSummary extends TimingSummary {
  /** Median of first-pass-begin to last-pass-end (includes copies and gaps between passes). */
  span_median_ms: number;
  /** Compute passes per repetition (the last one). */
  passes: number;
}

export interface Measurement {
  first_call_ms: number;
  /** Wall clock: issue + sync scalar readback + onSubmittedWorkDone, per timed rep. */
  wall: TimingSummary;
  /** Sum of compute-pass durations from timestamp queries, per GPU-timed rep; null without them. */
  gpu: GpuTimingSummary | null;
  /** Shapes of the tensors `run` returned (what the sync sums). */
  output_shapes: number[][];
  /** The synced scalar of the last rep: a check that the work produced finite numbers. */
  checksum: number;
  /** Tensors still alive after teardown that were not before setup. */
  leaked_tensors: number;
}

export interface MeasureOptions {
  /** Time the sync reduction on the GPU too (for the sync-overhead measurement itself). */
  gpuTimesSync?: boolean;
}

interface RepTiming {
  wallMs: number;
  gpu: { passMs: number; spanMs: number; passes: number } | null;
  value: number;
  outputShapes: number[][];
}

/** GPU-timed reps after the wall-clock ones (at most the workload's timed reps). */
const GPU_TIMED_REPS = 5;

const asList = (out: Tensor | Tensor[]): Tensor[] => (Array.isArray(out) ? out : [out]);

/**
 * One repetition: issue the workload, encode the sync scalar, read it back, wait for the queue
 * to be idle. The GPU timing window covers the workload's passes (and the sync's if asked).
 */
async function timeOneRep<S>(
  w: Workload<S>,
  state: S,
  withGpuTiming: boolean,
  options: MeasureOptions,
): Promise<RepTiming> {
  const { dispatcher, device } = runtime();
  await device.queue.onSubmittedWorkDone();
  let pending: PendingPassTimings | null = null;
  let outputShapes: number[][] = [];
  if (withGpuTiming) dispatcher.startPassTiming();
  const start = performance.now();
  try {
    const scalar = scope(() => {
      const outputs = asList(w.run(state));
      outputShapes = outputs.map((t) => [...t.shape]);
      if (withGpuTiming && !options.gpuTimesSync) pending = dispatcher.endPassTiming();
      const s = syncScalar(outputs);
      if (withGpuTiming && options.gpuTimesSync) pending = dispatcher.endPassTiming();
      return s;
    });
    try {
      const value = (await scalar.read())[0]!;
      await device.queue.onSubmittedWorkDone();
      const wallMs = performance.now() - start;
      const gpu = pending ? await (pending as PendingPassTimings).read() : null;
      return { wallMs, gpu, value, outputShapes };
    } finally {
      scalar.dispose();
    }
  } finally {
    // A run() that threw leaves the window open; close it so the next workload can time.
    if (withGpuTiming && pending === null) await dispatcher.endPassTiming().read();
  }
}

export async function measure<S>(w: Workload<S>, options: MeasureOptions = {}): Promise<Measurement> {
  const rt = runtime();
  const liveBefore = liveTensorCount();
  const state = await w.setup();
  const timed: RepTiming[] = [];
  const gpuTimed: RepTiming[] = [];
  let first: RepTiming | null = null;
  try {
    const withGpuTiming = rt.dispatcher.canTimePasses;
    for (let i = 0; i < w.warmupReps; i++) {
      const rep = await timeOneRep(w, state, false, options);
      first ??= rep;
    }
    for (let i = 0; i < w.timedReps; i++) timed.push(await timeOneRep(w, state, false, options));
    // Timed passes (one per dispatch, timestamps at both ends) cost time of their own on some
    // adapters, so the GPU is timed in reps of its own, after the wall-clock ones.
    if (withGpuTiming) {
      for (let i = 0; i < Math.min(w.timedReps, GPU_TIMED_REPS); i++) gpuTimed.push(await timeOneRep(w, state, true, options));
    }
  } finally {
    w.teardown(state);
    await rt.device.queue.onSubmittedWorkDone();
  }
  first ??= timed[0] ?? null;
  const gpuReps = gpuTimed.map((r) => r.gpu).filter((g) => g !== null);
  const gpu =
    gpuReps.length === gpuTimed.length && gpuReps.length > 0
      ? {
          ...summarize(gpuReps.map((g) => g.passMs)),
          span_median_ms: summarize(gpuReps.map((g) => g.spanMs)).median_ms,
          passes: gpuReps[gpuReps.length - 1]!.passes,
        }
      : null;
  return {
    first_call_ms: Math.round((first?.wallMs ?? NaN) * 1000) / 1000,
    wall: summarize(timed.map((r) => r.wallMs)),
    gpu,
    output_shapes: first?.outputShapes ?? [],
    checksum: timed[timed.length - 1]?.value ?? NaN,
    leaked_tensors: liveTensorCount() - liveBefore,
  };
}
