// `runBench()`: measures every workload (and the sync overhead of its shapes) and returns the
// rows `ddpm bench` prints and saves.

import { runtime, type Shape, type Tensor } from '../engine/index.ts';
import { measure, type Measurement } from './measure.ts';
import { loadPeers, measurePeers, parsePeers, PEER_TIMING } from './peers/index.ts';
import type { PeerEntry, PeerName } from './peers/common.ts';
import { measureSampling, samplingRowName, type SamplingMeasurement, type SamplingSpec } from './sampling.ts';
import { defineWorkload, randn, type Workload } from './workload.ts';
import { BENCH_WORKLOADS } from './workloads.ts';

/** One line for the printed header; TIMING_DETAILS goes into the JSON. */
export const TIMING_DESCRIPTION =
  'wall ms = wall clock (issue + sync scalar readback + onSubmittedWorkDone), median of timed reps, ' +
  'includes sync_overhead_ms; GFLOP/s and GB/s from wall ms; gpu_ms = GPU timestamp queries ' +
  "(the workload's compute passes only, sync excluded), median of up to 5 GPU-timed reps after the wall-clock ones";

export const TIMING_DETAILS = [
  'ms (wall): performance.now() in the page around issuing the work, reading back the scalar ' +
    'Σ sum(output_i) that depends on it and awaiting queue.onSubmittedWorkDone(); median of the ' +
    'timed reps after untimed warm-up reps (bench/WORKLOADS.md, "How a repetition is timed").',
  'sync_overhead_ms: the same sync (sums + readback + onSubmittedWorkDone) done alone on resident ' +
    'tensors of the same shapes; ms includes it, subtract it for a kernel-only wall figure.',
  "gpu_ms: from timestamp queries written at the beginning and end of each of the workload's " +
    'compute passes in up to 5 reps of their own after the wall-clock reps (the per-pass timestamps cost ' +
    'time on some adapters, so the wall-clock reps carry none): the sum of the pass durations. It excludes the sync ' +
    'reduction, buffer copies and clears, and gaps between passes; gpu.span_median_ms is first ' +
    'pass begin to last pass end. gpu_gflops and gpu_gbps are computed from gpu_ms.',
  'first_call_ms: wall time of the very first (untimed warm-up) call: pipeline compilation, pool growth.',
];

export interface BenchRow {
  name: string;
  ms: number;
  gflops: number | null;
  gbps: number | null;
  gpu_ms: number | null;
  gpu_gflops: number | null;
  gpu_gbps: number | null;
  sync_overhead_ms: number;
  first_call_ms: number;
  workload: {
    description: string;
    flops?: number;
    bytes?: number;
    output_shapes: number[][];
    warmup_reps: number;
    timed_reps: number;
  };
  wall: Measurement['wall'];
  gpu: Measurement['gpu'];
  sync_overhead: { wall: Measurement['wall']; gpu: Measurement['gpu'] };
  check: { checksum: number; leaked_tensors: number };
  /** With `peers`: each peer's timing of the same workload, or why it has none. */
  peers?: Partial<Record<PeerName, PeerEntry>>;
}

/** The sampling-throughput row (ours only). */
export type SamplingRow = SamplingMeasurement & { peers?: Partial<Record<PeerName, PeerEntry>> };

export interface BenchResult {
  timing: string;
  timing_details: string[];
  device: Record<string, unknown>;
  rows: (BenchRow | SamplingRow)[];
  /** With `peers`: each peer engine's library, version and backend (or why it did not start). */
  peers?: Partial<Record<PeerName, Record<string, unknown>>>;
  peer_timing?: string;
}

export interface BenchOptions {
  /** Run only these workloads (by name). */
  only?: string[];
  /** Also time these engines ('tfjs', 'jax') on each workload, right after ours, in the same page. */
  peers?: readonly string[];
  /** Also measure this sampling throughput (ours only; its row name is `samplingRowName(spec)`). */
  sampling?: SamplingSpec;
}

const SYNC_REPS = { warmupReps: 2, timedReps: 10 };

/** `syncScalar` alone on resident tensors of `shapes`: the sync every workload's timing includes. */
function syncOverheadWorkload(shapes: readonly Shape[]): Workload {
  return defineWorkload({
    name: `sync ${JSON.stringify(shapes)}`,
    description: 'Σ sum(t) over resident tensors, read back',
    ...SYNC_REPS,
    setup: () => shapes.map((s, i) => randn(s, 9001 + i)),
    run: (ts: Tensor[]) => ts,
    teardown: (ts: Tensor[]) => ts.forEach((t) => t.dispose()),
  });
}

/** Work per second: `amount` units (FLOPs or bytes) in `ms`, in 1e9 per second; null if n/a. */
const perSecondG = (amount: number | undefined, ms: number | undefined): number | null =>
  amount === undefined || ms === undefined || !(ms > 0) ? null : Math.round((amount / (ms * 1e6)) * 1000) / 1000;

function toRow(w: Workload, m: Measurement, sync: Measurement): BenchRow {
  const ms = m.wall.median_ms;
  return {
    name: w.name,
    ms,
    gflops: perSecondG(w.flops, ms),
    gbps: perSecondG(w.bytes, ms),
    gpu_ms: m.gpu?.median_ms ?? null,
    gpu_gflops: perSecondG(w.flops, m.gpu?.median_ms),
    gpu_gbps: perSecondG(w.bytes, m.gpu?.median_ms),
    sync_overhead_ms: sync.wall.median_ms,
    first_call_ms: m.first_call_ms,
    workload: {
      description: w.description,
      flops: w.flops,
      bytes: w.bytes,
      output_shapes: m.output_shapes,
      warmup_reps: w.warmupReps,
      timed_reps: w.timedReps,
    },
    wall: m.wall,
    gpu: m.gpu,
    sync_overhead: { wall: sync.wall, gpu: sync.gpu },
    check: { checksum: m.checksum, leaked_tensors: m.leaked_tensors },
  };
}

function describeBenchDevice(): Record<string, unknown> {
  const { report, dispatcher } = runtime();
  return {
    adapter: report.adapter,
    isFallbackAdapter: report.isFallbackAdapter,
    timestampQuery: dispatcher.canTimePasses,
    subgroups: !report.features.includes('subgroups')
      ? 'no'
      : report.subgroupSizes
        ? `sizes ${report.subgroupSizes[0]}–${report.subgroupSizes[1]}${runtime().tuning.subgroups ? '' : ' (unused)'}`
        : 'yes',
    browser: navigator.userAgent,
    cpuThreads: navigator.hardwareConcurrency,
    features: report.features,
    limits: report.limits,
  };
}

export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  // The sampling row in f32 everywhere, and again in f16 where the adapter has shader-f16.
  const halfSampling = runtime().hasF16;
  const samplingSpecs: SamplingSpec[] = options.sampling
    ? [options.sampling, ...(halfSampling ? [{ ...options.sampling, precision: 'f16' as const }] : [])]
    : [];
  const known = [...BENCH_WORKLOADS.map((w) => w.name), ...samplingSpecs.map(samplingRowName)];
  const unknown = (options.only ?? []).filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new Error(`runBench: unknown workload(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const selected = BENCH_WORKLOADS.filter((w) => !options.only || options.only.includes(w.name));

  const peers = options.peers && options.peers.length > 0 ? await loadPeers(parsePeers(options.peers.join(','))) : null;
  const syncByShapes = new Map<string, Measurement>();
  const rows: (BenchRow | SamplingRow)[] = [];
  for (const w of selected) {
    const m = await measure(w);
    const key = JSON.stringify(m.output_shapes);
    let sync = syncByShapes.get(key);
    if (!sync) {
      sync = await measure(syncOverheadWorkload(m.output_shapes), { gpuTimesSync: true });
      syncByShapes.set(key, sync);
    }
    if (m.leaked_tensors !== 0) console.warn(`bench ${w.name}: ${m.leaked_tensors} tensors leaked`);
    if (!Number.isFinite(m.checksum)) console.warn(`bench ${w.name}: the synced scalar is ${m.checksum}`);
    const row = toRow(w, m, sync);
    console.info(`bench ${w.name}: ${m.wall.median_ms} ms wall, ${m.gpu?.median_ms ?? '-'} ms gpu`);
    if (peers) row.peers = await measurePeers(peers, w, row.ms);
    rows.push(row);
  }
  for (const spec of samplingSpecs.filter((s) => !options.only || options.only.includes(samplingRowName(s)))) {
    const row: SamplingRow = await measureSampling(spec);
    console.info(`bench ${row.name}: ${row.ms} ms wall, ${row.images_per_s} images/s`);
    if (peers) {
      const reason = 'no such U-Net in bench/WORKLOADS.md: ours only';
      row.peers = Object.fromEntries(peers.map((p) => [p.name, { reason }]));
    }
    rows.push(row);
  }
  const result: BenchResult = { timing: TIMING_DESCRIPTION, timing_details: TIMING_DETAILS, device: describeBenchDevice(), rows };
  if (peers) {
    result.peers = Object.fromEntries(peers.map((p) => [p.name, p.info]));
    result.peer_timing = PEER_TIMING;
  }
  return result;
}
