// The application service both front ends use (the demo page through <ddpm-app>, the CLI through
// the harness page): one engine, one dataset, at most one trainer, and everything done with them:
// training, checkpoints, sampling, the bound, the noising chain. GPU work runs one job at a time.

import { CapturedRun, noGrad, runtime, scope, tensor, type DispatchCounters, type Tensor } from '../engine/index.ts';
import { evaluateBound, type BoundReport } from '../model/diffusion/evaluate.ts';
import { microBatches } from '../model/micro-batches.ts';
import { makeTrainConfig, Trainer, type StepRecord, type TrainConfig, type TrainConfigInput } from '../model/train/trainer.ts';
import { TimestepSampler } from '../model/train/timestep-sampler.ts';
import {
  checkpointFileName,
  checkpointModel,
  readCheckpoint,
  resumeTrainer,
  trainerModel,
  writeCheckpoint,
  type InferenceModel,
  type ParsedCheckpoint,
  type Weights,
} from './checkpoint-io.ts';
import { DatasetCache, type DatasetRequest, type PreparedDataset } from './dataset-cache.ts';
import { startEngine, type EngineStatus, type LostEngine } from './engine.ts';
import { GpuQueue } from './gpu-queue.ts';
import type { ImageBatch } from './images.ts';
import { noisingChain, type ChainResult } from './noising-chain.ts';
import { presetNameOf } from './presets.ts';
import { sampleImages, sampleSteps, type SampleHooks, type SampleRequest, type SampleResult } from './sampling.ts';
import type { ScheduleChoice } from './schedules.ts';
import type { TrainerSummary } from './view-state.ts';
import type { Execution } from '../model/replayed-forward.ts';

/** The session's trainer: where it stands and what it was built with. */
export interface TrainerInfo {
  step: number;
  parameters: number;
  /** Training images. */
  images: number;
  /** Parts a step's batch runs in: more than 1 when its largest tensor exceeds one storage binding. */
  microBatches: number;
  config: TrainConfig;
  summary: TrainerSummary;
}

/** What one piece of GPU work costs: CPU time to encode it, GPU time by kernel, wall time, memory. */
export interface WorkProfile {
  /** e.g. "training step, batch 16". */
  what: string;
  /** Wall time of a run, from its first encoded op to its result read back: the median of the encode runs. */
  wallMs: number;
  /** The same for the first run (the work's first call since it was built or captured). */
  firstWallMs: number;
  /** CPU time to encode and submit it (the GPU idle before each), best and median over `reps`. */
  encodeMs: { best: number; median: number; reps: number };
  /** Sum of the timed passes (one per dispatch) of the profiled run. */
  gpuMs: number;
  dispatches: number;
  /** Peak bytes of live GPU buffers during the run: the pool's intermediates in use plus the parameter arena's buffers. */
  peakLiveBytes: number;
  /** By kernel family (the name before '[', with the role it ran for) and by kernel. */
  families: { name: string; ms: number; count: number }[];
  kernels: { name: string; ms: number; count: number }[];
}

/** The profile of a training step and of the U-Net forward a sampler step runs, op by op and replayed. */
export interface StepProfile {
  /** The training step op by op. */
  step: WorkProfile;
  /** The training step captured once and replayed (what training runs). */
  stepReplayed: WorkProfile;
  forward: WorkProfile;
  /** The same forward captured once and replayed (what sampling runs): the same dispatches, less encoding. */
  forwardReplayed: WorkProfile;
}

/** A training step's GPU memory, op by op and replayed, found by encoding it without running it. */
export interface StepMemory {
  batchSize: number;
  /** Parts the batch runs in (1 unless its largest tensor exceeds one storage binding). */
  microBatches: number;
  /** The parameter arena's buffers (weights, gradients, EMA, Adam's moments): the same both ways. */
  arenaBytes: number;
  /** Peak bytes of live GPU buffers during a step (the pool's in use plus the arena's), op by op and replayed. */
  peakLiveBytes: { eager: number; replayed: number };
  /** The captured step's intermediates: the buffers its capture used, and those its static memory plan holds. */
  intermediates: { captured: number; planned: number };
}

/** How many times the encode of a piece of work is timed (best and median of these). */
const ENCODE_REPS = 9;

/** The run's pass timings by kernel and by family. */
function kernelTables(byKernel: Record<string, { ms: number; count: number }>): Pick<WorkProfile, 'families' | 'kernels'> {
  const kernels = Object.entries(byKernel).map(([name, k]) => ({ name, ...k }));
  const families = new Map<string, { name: string; ms: number; count: number }>();
  for (const k of kernels) {
    // Family: the kernel's name before its specialisation, with the role it ran for.
    const role = k.name.includes('@') ? ` (${k.name.slice(k.name.lastIndexOf('@') + 1)})` : '';
    const name = k.name.split('@')[0]!.split('[')[0]! + role;
    const f = families.get(name) ?? { name, ms: 0, count: 0 };
    f.ms += k.ms;
    f.count += k.count;
    families.set(name, f);
  }
  const slowestFirst = <T extends { ms: number }>(a: T[]) => a.sort((x, y) => y.ms - x.ms);
  return { families: slowestFirst([...families.values()]), kernels: slowestFirst(kernels) };
}

export interface SessionEvents {
  /** The device was lost; the trainer went with it (the dataset stays). */
  onDeviceLost?(status: LostEngine): void;
  onGpuError?(message: string): void;
}

export interface EvaluateOptions {
  batch: number;
  /** KL terms to evaluate (fewer than T − 1: an estimate). */
  terms: number;
  seed: number;
  /** 'replay' (default): the network forward captured once and replayed; 'eager': op by op. */
  execution?: Execution;
}

export class TrainingSession {
  engine: EngineStatus = { kind: 'starting' };
  private readonly dataset = new DatasetCache();
  private trainer: { trainer: Trainer; preset: string; images: number } | null = null;
  private readonly gpu = new GpuQueue();

  constructor(private readonly events: SessionEvents = {}) {}

  /** Starts the engine (a fresh device, or with `reuse` the page's running one). A previous trainer is dropped. */
  async startEngine(options: { reuse?: boolean } = {}): Promise<EngineStatus> {
    this.clear(false);
    this.engine = { kind: 'starting' };
    this.engine = await startEngine(
      {
        onLost: (status) => {
          // Everything on the old device is gone; a checkpoint saved earlier can resume the run.
          this.clear(false);
          this.engine = status;
          this.events.onDeviceLost?.(status);
        },
        onGpuError: (message) => this.events.onGpuError?.(message),
      },
      options.reuse,
    );
    return this.engine;
  }

  get ready(): boolean {
    return this.engine.kind === 'ready';
  }

  // --- state --------------------------------------------------------------------------------

  /** The trainer's step and config, or null when there is none. */
  info(): TrainerInfo | null {
    if (!this.trainer) return null;
    const { trainer, preset, images } = this.trainer;
    const c = trainer.config;
    return {
      step: trainer.step,
      parameters: trainer.model.parameterCount(),
      images,
      microBatches: microBatches(c.batchSize, trainer.microBatchSize()).length,
      config: c,
      summary: {
        preset,
        schedule: { type: c.diffusion.schedule.type, T: c.diffusion.schedule.T },
        batchSize: c.batchSize,
        lr: c.optimizer.lr,
        warmupSteps: c.optimizer.warmupSteps,
        emaDecay: c.emaDecay,
        seed: c.seed,
        imageSize: c.model.imageSize,
        channels: c.model.inChannels,
      },
    };
  }

  get hasTrainer(): boolean {
    return this.trainer !== null;
  }

  /** The trainer's step (0 without one). */
  get step(): number {
    return this.trainer?.trainer.step ?? 0;
  }

  /** Drops the trainer (after the GPU jobs queued before): the session is back to "data only". */
  reset(): Promise<void> {
    return this.gpu.run(async () => this.clear(true));
  }

  /** The one reset of the session's state; `dispose` is false when the device is already gone. */
  private clear(dispose: boolean): void {
    if (dispose) this.trainer?.trainer.dispose();
    this.trainer = null;
  }

  private requireReady(): void {
    if (this.engine.kind !== 'ready') throw new Error('the GPU is not available');
  }

  private requireTrainer(what: string): Trainer {
    if (!this.trainer) throw new Error(`there is no model ${what} yet: start training first`);
    return this.trainer.trainer;
  }

  // --- data ---------------------------------------------------------------------------------

  /** Loads a dataset (dropping the previous one); images are prepared per model shape on first use. */
  loadDataset(request: DatasetRequest): Promise<void> {
    return this.dataset.load(request);
  }

  get hasDataset(): boolean {
    return this.dataset.loaded;
  }

  /** The loaded dataset at a model's shape. */
  prepared(size: number, channels: number): Promise<PreparedDataset> {
    return this.dataset.prepare(size, channels);
  }

  /** A description of the loaded dataset and its first images at a model's shape. */
  describeDataset(size: number, channels: number): Promise<{ description: string; preview: ImageBatch }> {
    return this.dataset.describe(size, channels);
  }

  // --- training -----------------------------------------------------------------------------

  /** A new trainer from `input` (defaults filled in, validated) on the loaded dataset, replacing any trainer. */
  async startTraining(input: TrainConfigInput, preset?: string): Promise<TrainerInfo> {
    this.requireReady();
    const config = makeTrainConfig(input);
    const data = await this.dataset.prepare(config.model.imageSize, config.model.inChannels);
    return this.gpu.run(async () => {
      this.clear(true);
      this.trainer = { trainer: new Trainer(config, data), preset: preset ?? presetNameOf(config.model), images: data.count };
      return this.info()!;
    });
  }

  /** A trainer continuing a checkpoint (bytes are validated before anything changes) on the loaded dataset. */
  async resume(from: Uint8Array | ParsedCheckpoint): Promise<TrainerInfo> {
    this.requireReady();
    if (!this.dataset.loaded) throw new Error('load a dataset first: training resumes on it');
    const checkpoint = from instanceof Uint8Array ? readCheckpoint(from) : from;
    const m = checkpoint.config.model;
    const data = await this.dataset.prepare(m.imageSize, m.inChannels);
    return this.gpu.run(async () => {
      this.clear(true);
      this.trainer = { trainer: resumeTrainer(checkpoint, data), preset: presetNameOf(m), images: data.count };
      return this.info()!;
    });
  }

  /** The engine's dispatch, submit and readback counts so far. */
  gpuCounters(): DispatchCounters {
    this.requireReady();
    return { ...runtime().dispatcher.counters };
  }

  /** Changes the running trainer's peak learning rate from its next step (between GPU jobs). */
  setLearningRate(lr: number): Promise<TrainerInfo> {
    const trainer = this.requireTrainer('to change the learning rate of');
    return this.gpu.run(async () => {
      trainer.setLearningRate(lr);
      return this.info()!;
    });
  }

  /** How the trainer runs its steps from the next one: captured once and replayed (the default), or op by op. */
  setExecution(execution: Execution): Promise<TrainerInfo> {
    const trainer = this.requireTrainer('to set how it runs');
    return this.gpu.run(async () => {
      trainer.execution = execution;
      return this.info()!;
    });
  }

  /** Runs `steps` training steps, reporting each loss as it is read back. */
  train(steps: number, onRecord?: (r: StepRecord) => void): Promise<StepRecord[]> {
    const trainer = this.requireTrainer('to train');
    return this.gpu.run(() => trainer.train(steps, onRecord));
  }

  /**
   * Profiles the trainer's next steps, and the U-Net forward of its EMA weights at `forwardBatch`
   * (what a sampler step runs). Needs the adapter's 'timestamp-query' feature.
   */
  profileStep(forwardBatch = 36): Promise<StepProfile> {
    const trainer = this.requireTrainer('to profile');
    return this.gpu.run(async () => {
      const arenaBytes = trainer.model.arena!.allocatedBytes;
      // train(1) encodes and submits its step before its first await: the call's synchronous part is the encode.
      const execution = trainer.execution;
      let step: WorkProfile;
      try {
        trainer.execution = 'eager';
        step = await profileWork(`training step op by op, batch ${trainer.config.batchSize}`, arenaBytes, () => ({ done: trainer.train(1) }));
      } finally {
        trainer.execution = execution;
      }
      // The capture, untimed: the replays are what training runs.
      trainer.execution = 'replay';
      await trainer.train(1);
      const stepReplayed = await profileWork(`training step replayed, batch ${trainer.config.batchSize}`, arenaBytes, () => ({ done: trainer.train(1) }));
      trainer.execution = execution;
      const m = trainer.config.model;
      const shape = [forwardBatch, m.inChannels, m.imageSize, m.imageSize];
      const x = tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 12.9898) * 0.8), shape);
      const t = tensor(Array.from({ length: forwardBatch }, (_, i) => (i * 37) % trainer.diffusion.T), [forwardBatch]);
      const model = trainer.evalModel();
      const forwardOf = (xs: Tensor, ts: Tensor) => model.forward(xs, ts);
      const timed = (out: Tensor) => ({ done: out.read().finally(() => out.dispose()) });
      let captured: CapturedRun | null = null;
      try {
        const forward = await profileWork(`U-Net forward (EMA weights), batch ${forwardBatch}`, arenaBytes, () =>
          timed(noGrad(() => scope(() => forwardOf(x, t)))),
        );
        // Captured after the op-by-op profile, whose peak memory must not count the run's static memory.
        // As sampling captures it: the weights frozen, so what reads only them runs at the capture.
        const frozen = model.parameters().map((p) => p.value);
        const capture = noGrad(() => CapturedRun.capture([x, t], forwardOf, { frozen }));
        captured = capture.run;
        // The capture's own run finishes before the replays are timed.
        await capture.result.read();
        capture.result.dispose();
        const run = captured;
        const forwardReplayed = await profileWork(`U-Net forward replayed, batch ${forwardBatch}`, arenaBytes, () => timed(run.replay([x, t])));
        return { step, stepReplayed, forward, forwardReplayed };
      } finally {
        captured?.dispose();
        x.dispose();
        t.dispose();
      }
    });
  }

  /**
   * The trainer's step memory, op by op and replayed: steps encoded and never run (the GPU's
   * memory at the cost of the JavaScript and the pipelines), so a large batch is measured in
   * seconds on any adapter. The trainer is left as it was: its counters, data order and timestep
   * sampler restored, and the capture (whose work never ran) dropped.
   */
  stepMemory(): Promise<StepMemory> {
    const trainer = this.requireTrainer('to measure');
    return this.gpu.run(async () => {
      const { dispatcher, pool } = runtime();
      const arenaBytes = trainer.model.arena!.allocatedBytes;
      const saved = { execution: trainer.execution, step: trainer.step, adamStep: trainer.adam.step, loader: trainer.loader.getState(), timesteps: trainer.timesteps.state() };
      const peakOfStep = () => {
        pool.resetPeaks();
        const r = trainer.trainStep();
        for (const t of [r.loss, r.mse, r.perSample]) t.dispose();
        return pool.getStats().peakInUseBytes + arenaBytes;
      };
      try {
        const eager = dispatcher.dry(() => {
          trainer.execution = 'eager';
          return peakOfStep();
        });
        const replayed = dispatcher.dry(() => {
          trainer.execution = 'replay';
          peakOfStep(); // the capture
          return peakOfStep();
        });
        const intermediates = trainer.compiledStepMemory!;
        const parts = microBatches(trainer.config.batchSize, trainer.microBatchSize()).length;
        return { batchSize: trainer.config.batchSize, microBatches: parts, arenaBytes, peakLiveBytes: { eager, replayed }, intermediates };
      } finally {
        trainer.dropCompiled();
        trainer.execution = saved.execution;
        trainer.step = saved.step;
        trainer.adam.step = saved.adamStep;
        trainer.loader.setState(saved.loader);
        trainer.timesteps = new TimestepSampler(trainer.diffusion.T, trainer.config.timestepSampling, saved.timesteps);
      }
    });
  }

  /** The trainer's full state as safetensors bytes, and the file name to offer them under. */
  async checkpoint(): Promise<{ bytes: Uint8Array; name: string; step: number }> {
    const trainer = this.requireTrainer('to save');
    const preset = this.trainer!.preset;
    const bytes = await this.gpu.run(() => writeCheckpoint(trainer));
    return { bytes, name: checkpointFileName(preset, trainer.step), step: trainer.step };
  }

  // --- sampling and evaluation --------------------------------------------------------------

  /** Which step the trainer's samples come from and how many steps a request takes. */
  samplePlan(request: SampleRequest): { fromStep: number; totalSteps: number } {
    const trainer = this.requireTrainer('to sample from');
    return { fromStep: trainer.step, totalSteps: sampleSteps(request, trainer.diffusion.T) };
  }

  /** Samples the trainer's EMA (or raw) weights, or those of the checkpoint bytes `from`. */
  async sample(request: SampleRequest, hooks: SampleHooks = {}, from?: Uint8Array): Promise<SampleResult> {
    const source = this.modelSource(request.weights ?? 'ema', from, 'to sample from');
    return this.withModel(source.make, (m) => sampleImages(m, request, hooks));
  }

  /** The variational bound (bits/dim) of the EMA weights (the trainer's, or the checkpoint bytes `from`) on `dataset`. */
  async evaluate(dataset: DatasetRequest, options: EvaluateOptions, from?: Uint8Array): Promise<BoundReport> {
    const source = this.modelSource('ema', from, 'to evaluate');
    const cache = new DatasetCache();
    await cache.load(dataset);
    const data = await cache.prepare(source.config.model.imageSize, source.config.model.inChannels);
    return this.withModel(source.make, (m) => evaluateBound(m.model, m.diffusion, data, options));
  }

  /** The model of checkpoint bytes (validated now) or of the trainer, made when its GPU job runs. */
  private modelSource(weights: Weights, from: Uint8Array | undefined, what: string): { config: TrainConfig; make: () => InferenceModel } {
    this.requireReady();
    if (from) {
      const parsed = readCheckpoint(from);
      return { config: parsed.config, make: () => checkpointModel(parsed, weights) };
    }
    const trainer = this.requireTrainer(what);
    return { config: trainer.config, make: () => trainerModel(trainer, weights) };
  }

  /** Runs `job` in the session's GPU queue (after the jobs queued before it); for services beside this one. */
  runGpuJob<T>(job: () => Promise<T>): Promise<T> {
    this.requireReady();
    return this.gpu.run(job);
  }

  /**
   * The model of checkpoint bytes `from` (parsed and validated once, now) or of the trainer, with
   * `weights`: its config, and `run(job)`, which makes it in the GPU queue for `job`.
   */
  inferenceModel(weights: Weights, from?: Uint8Array): { config: TrainConfig; run<T>(job: (m: InferenceModel) => Promise<T>): Promise<T> } {
    const source = this.modelSource(weights, from, 'to measure');
    return { config: source.config, run: (job) => this.withModel(source.make, job) };
  }

  /** Runs `job` on a model made in the GPU queue, disposing it afterwards. */
  private withModel<T>(make: () => InferenceModel, job: (m: InferenceModel) => Promise<T>): Promise<T> {
    return this.gpu.run(async () => {
      const model = make();
      try {
        return await job(model);
      } finally {
        model.dispose();
      }
    });
  }

  // --- the forward process ------------------------------------------------------------------

  /** q(x_t | x0) of dataset image `index` (at a model's shape) at `count` evenly spaced t, with one shared ε. */
  async noisingChain(request: {
    index: number;
    schedule: ScheduleChoice;
    count: number;
    seed: number;
    size: number;
    channels: number;
  }): Promise<ChainResult> {
    this.requireReady();
    const data = await this.dataset.prepare(request.size, request.channels);
    return this.gpu.run(() => noisingChain(data, (i) => this.dataset.label(data, i), request));
  }
}

/**
 * Profiles `run` (which encodes and submits its work synchronously and resolves when the GPU is
 * done): a first run, ENCODE_REPS runs for the encode and wall times, then one with a GPU
 * timestamp pair around every dispatch and the pool's peak tracked.
 */
async function profileWork(what: string, fixedBytes: number, run: () => { done: Promise<unknown> }): Promise<WorkProfile> {
  const { dispatcher, pool } = runtime();
  if (!dispatcher.canTimePasses) throw new Error("profiling needs the adapter's 'timestamp-query' feature, which this one lacks");
  const t0 = performance.now();
  await run().done;
  const firstWallMs = performance.now() - t0;
  const encodes: number[] = [];
  const walls: number[] = [];
  for (let i = 0; i < ENCODE_REPS; i++) {
    const start = performance.now();
    const { done } = run();
    encodes.push(performance.now() - start);
    await done;
    walls.push(performance.now() - start);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const wallMs = median(walls);
  encodes.sort((a, b) => a - b);
  pool.resetPeaks();
  const before = dispatcher.counters.dispatches;
  dispatcher.startPassTiming({ perKernel: true });
  const { done } = run();
  const pending = dispatcher.endPassTiming();
  await done;
  const timings = await pending.read();
  return {
    what,
    wallMs,
    firstWallMs,
    encodeMs: { best: encodes[0]!, median: encodes[Math.floor(encodes.length / 2)]!, reps: encodes.length },
    gpuMs: timings.passMs,
    dispatches: dispatcher.counters.dispatches - before,
    peakLiveBytes: pool.getStats().peakInUseBytes + fixedBytes,
    ...kernelTables(timings.byKernel ?? {}),
  };
}
