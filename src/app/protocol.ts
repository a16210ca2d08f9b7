// The CLI ↔ page protocol: what the harness page offers to Node (`window.ddpmHarness`), declared
// once. The page implements these interfaces (src/harness); the CLI calls them by name with
// checked arguments and results (src/cli/session-client.ts, src/cli/harness.ts). Everything
// crosses as JSON; bytes cross as base64 text in chunks of CHUNK bytes.

import type { DType } from '../engine/index.ts';
import type { CoverMode } from '../engine/checks/index.ts';
import type { BoundReport } from '../model/diffusion/evaluate.ts';
import type { Execution } from '../model/replayed-forward.ts';
import type { Split } from '../model/data/sources.ts';
import type { StepRecord, TrainConfig, TrainConfigInput } from '../model/train/trainer.ts';
import type { DeviceReport } from './engine.ts';
import type { ClassifierInfo, ClassifierTrainOptions, QualityResult } from './quality-service.ts';
import type { SampleRequest } from './sampling.ts';
import type { StepMemory, StepProfile } from './training-session.ts';

export type { BoundReport, StepRecord, TrainConfig, TrainConfigInput };

/** Bytes per base64 chunk, each way. */
export const CHUNK = 4 * 1024 * 1024;

/** A dataset as the CLI names it: Debian's IDX files by URL, or image files sent as base64. */
export type DatasetSpec =
  | { kind: 'idx'; url: string; split: Split; name: string; limit?: number }
  | { kind: 'files'; files: { name: string; base64: string }[] };

/** Bytes the page has queued for Node: fetch them with `take(0 .. chunks − 1)`. */
export interface Offered {
  bytes: number;
  chunks: number;
}

/** The training session, as `window.ddpmHarness.session`. */
export interface SessionProtocol {
  report(): DeviceReport;
  /** Bytes for the page (a checkpoint to resume, sample or evaluate), one chunk at a time; returns the bytes received so far. */
  receive(base64: string, first: boolean): number;
  /** Chunk `index` of the bytes last offered. */
  take(index: number): string;
  /** A trainer from `config`, or from the received checkpoint with `resume`, on `dataset`; its steps replayed unless `execution` is 'eager'. */
  start(args: { config?: TrainConfigInput; resume: boolean; dataset: DatasetSpec; execution?: Execution }): Promise<{
    step: number;
    config: TrainConfig;
    images: number;
    parameters: number;
    /** Parts a step's batch runs in (1 unless its largest tensor exceeds one storage binding). */
    microBatches: number;
  }>;
  train(steps: number): Promise<StepRecord[]>;
  /** GPU time of the trainer's next step by kernel family and kernel. */
  profileStep(): Promise<StepProfile>;
  /** The GPU memory of the trainer's step, op by op and replayed (encoded, never run). */
  stepMemory(): Promise<StepMemory>;
  /** Offers the trainer's checkpoint. */
  checkpoint(): Promise<Offered>;
  /**
   * Offers a PNG grid of samples: of the trainer, or of the received checkpoint with
   * `fromCheckpoint`; EMA weights unless `useEma` is false. Says how long they took and the
   * precision the network ran in.
   */
  sampleGrid(args: SampleGridArgs): Promise<Offered & { seconds: number; precision: DType }>;
  /** The variational bound of the received checkpoint's EMA weights on the first `n` images of `dataset`. */
  evaluate(args: { dataset: DatasetSpec; n: number; batch: number; terms: number; seed: number; execution?: Execution }): Promise<BoundReport>;
  /** Drops the trainer. */
  stop(): void;
  /** Makes the received bytes the quality classifier. */
  useClassifier(): Promise<ClassifierInfo>;
  /** A classifier trainer on the labelled `train` split (measured on `test` when finished). */
  startClassifierTraining(args: { train: DatasetSpec; test: DatasetSpec; options: Partial<ClassifierTrainOptions> }): Promise<{
    images: number;
    parameters: number;
  }>;
  /** Up to `steps` more classifier steps; each step's loss. */
  trainClassifier(steps: number): Promise<{ step: number; loss: number }[]>;
  /** Offers the trained classifier's file; it also becomes the session's classifier. */
  finishClassifierTraining(): Promise<Offered & { info: ClassifierInfo }>;
  /** Samples the trainer (or, with `fromCheckpoint`, the received checkpoint) and measures quality. */
  quality(args: QualityArgs): Promise<QualityResult>;
  /**
   * Offers the received checkpoint's output (raw weights) for images `sample` (base64 f32 [N, C, H, W])
   * at `timesteps` [N], as f32 bytes of `shape`.
   */
  unetForward(args: { shape: number[]; timesteps: number[]; sample: string }): Promise<Offered & { shape: number[] }>;
}

export type QualityArgs = {
  request: Omit<SampleRequest, 'every' | 'weights'>;
  train: DatasetSpec;
  test: DatasetSpec;
  fromCheckpoint: boolean;
  useEma?: boolean;
};

export type SampleGridArgs = Omit<SampleRequest, 'every' | 'weights'> & { fromCheckpoint?: boolean; useEma?: boolean };

/** One row of `ddpm check`: the largest errors of an op over its cases. */
export interface CheckRow {
  op: string;
  case: string;
  forward: number;
  grads: Record<string, number>;
  refVsFiniteDiff: number;
  pass: boolean;
  /** The cases that failed, each with what failed and by how much (empty when the op passed). */
  failures: string[];
}

/** One row of `ddpm bench` (rows carry more fields, printed as extra columns). */
export interface BenchRow {
  name: string;
  ms: number;
  gflops?: number | null;
  gbps?: number | null;
}

export interface BenchReport {
  timing: string;
  device: Record<string, unknown>;
  rows: BenchRow[];
}

/** What `ddpm bench` asks of runBench (src/bench/run.ts's BenchOptions, as JSON). */
export interface BenchRequest {
  /** Only these workloads (by name). */
  only?: string[];
  /** Peer engines to time on the same workloads: 'tfjs', 'jax'. */
  peers?: string[];
  /** The sampling-throughput row: a grid of n images from a fresh U-Net of this config. */
  sampling?: {
    preset: string;
    model: Partial<TrainConfig['model']>;
    diffusion: Partial<TrainConfig['diffusion']>;
    n: number;
    sampler: 'ddim' | 'dpm-solver' | 'ddpm';
    steps: number;
    warmupReps: number;
    timedReps: number;
  };
}

/** Which checks `runChecks` runs: every case of every op unless narrowed. */
export interface CheckRequest {
  /** Only these ops. */
  ops?: string[];
  /** Only a set of cases that runs every kernel variant (or every one beyond a software adapter's) and every op (src/engine/checks/cover.ts). */
  cover?: CoverMode;
}

/** The harness page's driver calls (`callHarness`). */
export interface HarnessProtocol {
  runChecks(request?: CheckRequest): Promise<CheckRow[]>;
  runBench(request?: BenchRequest): Promise<BenchReport>;
  /** Overrides kernel choices for the rest of the host's life (src/engine/tuning.ts; the CLI's DDPM_TUNING). */
  setTuning(overrides: Record<string, unknown>): void;
}

/** The argument list and result of protocol method `K`. */
export type ArgsOf<P, K extends keyof P> = P[K] extends (...args: infer A) => unknown ? A : never;
export type ResultOf<P, K extends keyof P> = P[K] extends (...args: never[]) => infer R ? Awaited<R> : never;
