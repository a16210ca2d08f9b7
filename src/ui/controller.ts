// The demo page's one link to the engine and the model. It owns the runtime, the dataset, the
// trainer and the sampler, runs their GPU work one job at a time, and reports what happens as
// events. The Lit components never import engine or model code: <ddpm-app> hands this state to
// them as properties and turns their DOM events into calls here.

import {
  broadcastTo,
  type DeviceLostDetail,
  type DeviceReport,
  initEngine,
  noGrad,
  randomNormal,
  scope,
  tensor,
} from '../engine/index.ts';
import { PRESETS, preset as presetConfig } from '../model/config.ts';
import type { ImageSet } from '../model/data/idx.ts';
import { prepareImages } from '../model/data/loader.ts';
import { imageSetFromFiles, loadIdxDataset, type Split } from '../model/data/sources.ts';
import { GaussianDiffusion } from '../model/diffusion/gaussian-diffusion.ts';
import { sample } from '../model/diffusion/sample.ts';
import { makeSchedule, SCHEDULE_TYPES, type ScheduleType } from '../model/diffusion/schedule.ts';
import { captureCheckpoint, parseCheckpoint, trainerFromCheckpoint } from '../model/train/checkpoint.ts';
import { makeTrainConfig, Trainer, type Dataset, type StepRecord } from '../model/train/trainer.ts';
import { UNet } from '../model/unet.ts';

/** Images in [−1, 1], [n, channels, size, size]. */
export interface ImageBatch {
  data: Float32Array;
  n: number;
  channels: number;
  size: number;
}

export type EngineStatus =
  | { kind: 'starting' }
  | { kind: 'ready'; report: DeviceReport }
  | { kind: 'unavailable'; message: string }
  | { kind: 'lost'; report: DeviceReport | null; reason: string; message: string };

export interface ScheduleChoice {
  type: ScheduleType;
  T: number;
}

export interface ScheduleCurves {
  betas: Float64Array;
  alphasCumprod: Float64Array;
  logSnr: Float64Array;
}

export type DatasetRequest =
  | { source: 'url'; url: string; split: Split; limit: number }
  | { source: 'files'; files: File[] };

export interface DatasetState {
  status: 'none' | 'loading' | 'ready' | 'error';
  /** e.g. "Fashion-MNIST test (64 images, 28×28)". */
  description: string;
  message: string;
  /** The first images, at the model's size. */
  preview: ImageBatch | null;
}

export interface TrainSettings {
  preset: string;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  emaDecay: number;
  /** Train until the trainer reaches this step. */
  targetSteps: number;
  seed: number;
}

export interface TrainingState {
  phase: 'none' | 'running' | 'paused' | 'finished';
  step: number;
  targetSteps: number;
  stepsPerSecond: number;
  parameters: number;
  /** What the current trainer was built with (null before one exists). */
  summary: { preset: string; schedule: ScheduleChoice; batchSize: number; lr: number; imageSize: number; channels: number } | null;
}

export interface SampleRequest {
  sampler: 'ddpm' | 'ddim';
  n: number;
  /** DDIM steps (DDPM always takes T). */
  steps: number;
  eta: number;
  /** Report x_t and x̂0 every this many steps. */
  every: number;
  seed: number;
}

export interface SampleFrameView {
  index: number;
  t: number;
  xt: ImageBatch;
  x0: ImageBatch;
}

export interface SamplingState {
  running: boolean;
  /** The training step whose EMA weights are sampled. */
  fromStep: number;
  totalSteps: number;
  frames: SampleFrameView[];
  result: ImageBatch | null;
  seconds: number;
}

export interface ChainResult {
  images: ImageBatch;
  timesteps: number[];
  alphaBars: number[];
  label: string;
}

export const PRESET_NAMES = Object.keys(PRESETS);

const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Where the dev server exposes Debian's datasets. */
export const DEFAULT_DATASET_URL = '/@fs/usr/share/datasets/fashion-mnist/';

type Source = { kind: 'idx'; set: ImageSet; name: string } | { kind: 'files'; files: File[]; name: string };

function describePresetSize(name: string): { size: number; channels: number } {
  const c = presetConfig(name);
  return { size: c.imageSize, channels: c.inChannels };
}

/** Every model preset with its image shape and parameter count (counted without a GPU). */
export function presetInfos(): { name: string; parameters: number; imageSize: number; channels: number }[] {
  return PRESET_NAMES.map((name) => {
    const c = presetConfig(name);
    return { name, parameters: new UNet(c).parameterCount(), imageSize: c.imageSize, channels: c.inChannels };
  });
}

export class DemoController extends EventTarget {
  engine: EngineStatus = { kind: 'starting' };
  dataset: DatasetState = { status: 'none', description: '', message: '', preview: null };
  schedule: ScheduleChoice = { type: 'linear', T: 1000 };
  /** The preset the data are prepared for (the trainer's once one exists). */
  preset = 'tiny-fashion';
  training: TrainingState = { phase: 'none', step: 0, targetSteps: 0, stepsPerSecond: 0, parameters: 0, summary: null };
  sampling: SamplingState = { running: false, fromStep: 0, totalSteps: 0, frames: [], result: null, seconds: 0 };
  /** Every loss read back since the trainer was made (the chart's data). */
  records: StepRecord[] = [];
  /** The last failure, for the page to show. */
  error: string | null = null;

  private source: Source | null = null;
  private prepared = new Map<string, Dataset & { labels: Uint8Array | null }>();
  private trainer: Trainer | null = null;
  private samplingAbort: AbortController | null = null;
  private recordTimes: number[] = [];
  private gpuQueue: Promise<unknown> = Promise.resolve();
  private loopId = 0;

  // --- events -------------------------------------------------------------------------------

  /** 'change' after any state change; 'step' per loss record; 'frame' per sampling frame. */
  private emit(type: 'change' | 'step' | 'frame'): void {
    this.dispatchEvent(new Event(type));
  }

  private fail(e: unknown): void {
    this.error = e instanceof Error ? e.message : String(e);
    console.error(e);
    this.emit('change');
  }

  clearError(): void {
    this.error = null;
    this.emit('change');
  }

  /** Runs GPU jobs one after another (training chunks, sampling, checkpoints, the noising chain). */
  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.gpuQueue.then(job, job);
    this.gpuQueue = run.catch(() => undefined);
    return run;
  }

  private get gpuReady(): boolean {
    return this.engine.kind === 'ready';
  }

  // --- engine -------------------------------------------------------------------------------

  async init(): Promise<void> {
    this.engine = { kind: 'starting' };
    this.emit('change');
    try {
      const rt = await initEngine();
      rt.addEventListener('devicelost', (e) => this.onDeviceLost((e as CustomEvent<DeviceLostDetail>).detail, rt.report));
      rt.addEventListener('gpuerror', (e) => this.fail(`GPU error: ${(e as CustomEvent<{ message: string }>).detail.message}`));
      this.engine = { kind: 'ready', report: rt.report };
    } catch (e) {
      this.engine = { kind: 'unavailable', message: e instanceof Error ? e.message : String(e) };
    }
    this.emit('change');
  }

  private onDeviceLost(detail: DeviceLostDetail, report: DeviceReport): void {
    // Everything on the old device is gone; a checkpoint downloaded earlier can resume the run.
    this.trainer = null;
    this.training = { ...this.training, phase: 'none', summary: null };
    this.sampling = { ...this.sampling, running: false };
    this.engine = { kind: 'lost', report, reason: detail.reason, message: detail.message };
    this.emit('change');
  }

  /** A fresh device after a loss (the dataset stays; the trainer does not). */
  async restartEngine(): Promise<void> {
    this.records = [];
    this.training = { phase: 'none', step: 0, targetSteps: 0, stepsPerSecond: 0, parameters: 0, summary: null };
    this.sampling = { running: false, fromStep: 0, totalSteps: 0, frames: [], result: null, seconds: 0 };
    await this.init();
  }

  // --- schedule (CPU, float64) -------------------------------------------------------------

  setSchedule(choice: ScheduleChoice): void {
    this.schedule = { ...choice };
    this.emit('change');
  }

  /** β_t, ᾱ_t and log-SNR of every schedule type at T, or the reason the choice is invalid. */
  static scheduleCurves(T: number): { curves: Map<ScheduleType, ScheduleCurves>; error: string | null } {
    const curves = new Map<ScheduleType, ScheduleCurves>();
    let error: string | null = null;
    for (const type of SCHEDULE_TYPES) {
      try {
        const s = makeSchedule({ type, T });
        curves.set(type, { betas: s.betas, alphasCumprod: s.alphasCumprod, logSnr: s.logSnr });
      } catch (e) {
        error ??= (e as Error).message;
      }
    }
    return { curves, error };
  }

  // --- dataset ------------------------------------------------------------------------------

  async loadDataset(request: DatasetRequest): Promise<void> {
    this.dataset = { status: 'loading', description: '', message: request.source === 'url' ? `fetching ${request.url}…` : 'decoding images…', preview: null };
    this.emit('change');
    try {
      if (request.source === 'url') {
        const full = await loadIdxDataset(request.url, request.split, 'Fashion-MNIST');
        const count = request.limit > 0 ? Math.min(request.limit, full.count) : full.count;
        const plane = full.height * full.width * full.channels;
        const set = { ...full, count, images: full.images.subarray(0, count * plane), labels: full.labels?.subarray(0, count) ?? null };
        this.source = { kind: 'idx', set, name: `Fashion-MNIST ${request.split}` };
      } else {
        if (request.files.length === 0) throw new Error('no image files were picked');
        this.source = { kind: 'files', files: request.files, name: `${request.files.length} picked image${request.files.length === 1 ? '' : 's'}` };
      }
      this.prepared.clear();
      await this.refreshDataset();
    } catch (e) {
      this.source = null;
      this.dataset = { status: 'error', description: '', message: e instanceof Error ? e.message : String(e), preview: null };
      this.emit('change');
    }
  }

  /** Chooses the model preset before training (the data are resized to its image size). */
  async setPreset(name: string): Promise<void> {
    if (this.trainer || name === this.preset) return;
    this.preset = name;
    this.emit('change');
    if (this.source) await this.refreshDataset();
  }

  private async refreshDataset(): Promise<void> {
    try {
      const data = await this.preparedData(this.preset);
      const { channels, size } = describePresetSize(this.preset);
      const n = Math.min(16, data.count);
      const source = this.source!;
      const native = source.kind === 'idx' ? `${source.set.width}×${source.set.height}, shown at ${size}×${size}` : `${size}×${size}`;
      this.dataset = {
        status: 'ready',
        description: `${source.name}: ${data.count} image${data.count === 1 ? '' : 's'} (${native})`,
        message: '',
        preview: { data: data.images.slice(0, n * channels * size * size), n, channels, size },
      };
    } catch (e) {
      this.dataset = { status: 'error', description: '', message: e instanceof Error ? e.message : String(e), preview: null };
    }
    this.emit('change');
  }

  /** The source prepared for a preset's image size and channels (cached). */
  private async preparedData(presetName: string): Promise<Dataset & { labels: Uint8Array | null }> {
    const { size, channels } = describePresetSize(presetName);
    return this.preparedFor(size, channels);
  }

  private async preparedFor(size: number, channels: number): Promise<Dataset & { labels: Uint8Array | null }> {
    const key = `${size}x${channels}`;
    const cached = this.prepared.get(key);
    if (cached) return cached;
    const source = this.source;
    if (!source) throw new Error('load a dataset first');
    let set: ImageSet;
    if (source.kind === 'idx') {
      set = source.set;
      if (set.channels !== channels) {
        throw new Error(`${source.name} is grayscale (1 channel) but this model takes ${channels}; pick a 1-channel preset or your own images`);
      }
    } else {
      if (channels !== 1 && channels !== 3) throw new Error(`picked images need a model with 1 or 3 channels, not ${channels}`);
      set = await imageSetFromFiles(source.files, size, channels);
    }
    const data = { images: prepareImages(set, size), count: set.count, shape: [channels, size, size] as const, labels: set.labels };
    this.prepared.set(key, data);
    return data;
  }

  // --- forward process ---------------------------------------------------------------------

  /** q(x_t | x0) of dataset image `index` at `count` evenly spaced t, with one shared ε. */
  async forwardChain(index: number, schedule: ScheduleChoice, count: number, seed: number): Promise<ChainResult> {
    if (!this.gpuReady) throw new Error('the GPU is not available');
    const data = await this.preparedData(this.preset);
    const [C, S] = [data.shape[0], data.shape[1]];
    const plane = C * S * S;
    const i = ((index % data.count) + data.count) % data.count;
    const x0 = data.images.subarray(i * plane, (i + 1) * plane);
    const diffusion = new GaussianDiffusion({ schedule: { type: schedule.type, T: schedule.T } });
    const T = diffusion.T;
    const timesteps = [...new Set(Array.from({ length: count }, (_, k) => Math.round((k * (T - 1)) / Math.max(1, count - 1))))];
    const n = timesteps.length;
    try {
      const images = await this.exclusive(async () => {
        const xt = noGrad(() =>
          scope(() => {
            const tiled = new Float32Array(n * plane);
            for (let k = 0; k < n; k++) tiled.set(x0, k * plane);
            const eps = broadcastTo(randomNormal([1, C, S, S], { seed }), [n, C, S, S]);
            return diffusion.qSample(tensor(tiled, [n, C, S, S]), diffusion.timesteps(timesteps), eps);
          }),
        );
        const values = await xt.read();
        xt.dispose();
        return values;
      });
      const label = data.labels ? FASHION_CLASSES[data.labels[i]!] ?? `class ${data.labels[i]}` : `image ${i + 1}`;
      return {
        images: { data: images, n, channels: C, size: S },
        timesteps,
        alphaBars: timesteps.map((t) => diffusion.schedule.alphasCumprod[t]!),
        label: `${label} (#${i + 1} of ${data.count})`,
      };
    } finally {
      diffusion.dispose();
    }
  }

  // --- training -----------------------------------------------------------------------------

  private summarize(trainer: Trainer, presetName: string): TrainingState['summary'] {
    const c = trainer.config;
    return {
      preset: presetName,
      schedule: { type: c.diffusion.schedule.type, T: c.diffusion.schedule.T },
      batchSize: c.batchSize,
      lr: c.optimizer.lr,
      imageSize: c.model.imageSize,
      channels: c.model.inChannels,
    };
  }

  private adopt(trainer: Trainer, presetName: string): void {
    this.trainer = trainer;
    this.records = [];
    this.recordTimes = [];
    this.training = {
      phase: 'paused',
      step: trainer.step,
      targetSteps: this.training.targetSteps,
      stepsPerSecond: 0,
      parameters: trainer.model.parameterCount(),
      summary: this.summarize(trainer, presetName),
    };
  }

  /** Starts (making a trainer from the settings and the schedule choice) or resumes training. */
  async startTraining(settings: TrainSettings): Promise<void> {
    if (this.training.phase === 'running' || !this.gpuReady) return;
    this.error = null;
    try {
      if (!this.trainer) {
        await this.setPreset(settings.preset);
        const data = await this.preparedData(settings.preset);
        const config = makeTrainConfig({
          model: presetConfig(settings.preset),
          diffusion: { schedule: { type: this.schedule.type, T: this.schedule.T } },
          optimizer: { lr: settings.lr, warmupSteps: settings.warmupSteps },
          batchSize: settings.batchSize,
          emaDecay: settings.emaDecay,
          seed: settings.seed,
        });
        this.adopt(new Trainer(config, data), settings.preset);
      }
    } catch (e) {
      this.fail(e);
      return;
    }
    this.training = { ...this.training, phase: 'running', targetSteps: settings.targetSteps };
    this.emit('change');
    await this.trainLoop();
  }

  /** Trains in short chunks with a yield between them, so the page stays responsive. */
  private async trainLoop(): Promise<void> {
    // A Resume while the previous loop still finishes its chunk must not leave two loops running.
    const loop = ++this.loopId;
    let chunk = 1;
    try {
      while (this.training.phase === 'running' && this.trainer && loop === this.loopId) {
        const trainer = this.trainer;
        const remaining = this.training.targetSteps - trainer.step;
        if (remaining <= 0) {
          this.training = { ...this.training, phase: 'finished' };
          break;
        }
        const t0 = performance.now();
        const k = Math.min(chunk, remaining);
        await this.exclusive(() => trainer.train(k, (r) => this.onRecord(r)));
        // Aim for chunks of about a quarter second: long enough to keep the GPU busy, short
        // enough that Pause and Sample answer quickly.
        const perStep = (performance.now() - t0) / k;
        chunk = Math.max(1, Math.min(50, Math.round(250 / Math.max(perStep, 1))));
        this.training = { ...this.training, step: trainer.step };
        this.emit('change');
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (e) {
      this.training = { ...this.training, phase: this.trainer ? 'paused' : 'none' };
      // A lost device has its own banner; anything else is shown as an error.
      if (this.engine.kind === 'lost') this.emit('change');
      else this.fail(e);
      return;
    }
    this.emit('change');
  }

  private onRecord(r: StepRecord): void {
    this.records.push(r);
    const now = performance.now();
    this.recordTimes.push(now);
    if (this.recordTimes.length > 30) this.recordTimes.shift();
    const times = this.recordTimes;
    const rate = times.length > 1 ? ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!) : 0;
    this.training = { ...this.training, step: r.step + 1, stepsPerSecond: rate };
    this.emit('step');
  }

  pauseTraining(): void {
    if (this.training.phase !== 'running') return;
    this.training = { ...this.training, phase: 'paused' };
    this.emit('change');
  }

  /** Discards the trainer (settings can change again). */
  async resetTraining(): Promise<void> {
    this.pauseTraining();
    await this.exclusive(async () => {
      this.trainer?.dispose();
      this.trainer = null;
    });
    this.records = [];
    this.training = { phase: 'none', step: 0, targetSteps: this.training.targetSteps, stepsPerSecond: 0, parameters: 0, summary: null };
    this.sampling = { running: false, fromStep: 0, totalSteps: 0, frames: [], result: null, seconds: 0 };
    this.emit('change');
  }

  // --- checkpoints --------------------------------------------------------------------------

  /** The trainer's full state as a safetensors Blob and a file name. */
  async checkpoint(): Promise<{ blob: Blob; name: string }> {
    const trainer = this.trainer;
    if (!trainer) throw new Error('there is no model to save yet: start training first');
    const bytes = await this.exclusive(() => captureCheckpoint(trainer));
    const name = `ddpm-${this.training.summary?.preset ?? 'model'}-step${trainer.step}.safetensors`;
    return { blob: new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), name };
  }

  async downloadableCheckpoint(): Promise<{ url: string; name: string; bytes: number } | null> {
    try {
      const { blob, name } = await this.checkpoint();
      return { url: URL.createObjectURL(blob), name, bytes: blob.size };
    } catch (e) {
      this.fail(e);
      return null;
    }
  }

  /** Resumes from a checkpoint file on the loaded dataset (prepared for the checkpoint's model). */
  async resumeFrom(file: File): Promise<void> {
    if (!this.gpuReady) return;
    this.error = null;
    try {
      if (!this.source) throw new Error('load a dataset first: training resumes on it');
      const bytes = new Uint8Array(await file.arrayBuffer());
      const parsed = parseCheckpoint(bytes);
      const m = parsed.config.model;
      const data = await this.preparedFor(m.imageSize, m.inChannels);
      this.pauseTraining();
      const trainer = await this.exclusive(async () => {
        this.trainer?.dispose();
        this.trainer = null;
        return trainerFromCheckpoint(bytes, data);
      });
      const name = PRESET_NAMES.find((p) => JSON.stringify(presetConfig(p)) === JSON.stringify(m)) ?? 'custom';
      if (name !== 'custom') this.preset = name;
      this.schedule = { type: parsed.config.diffusion.schedule.type, T: parsed.config.diffusion.schedule.T };
      this.adopt(trainer, name);
      this.training = { ...this.training, targetSteps: Math.max(this.training.targetSteps, trainer.step) };
      this.sampling = { running: false, fromStep: 0, totalSteps: 0, frames: [], result: null, seconds: 0 };
      this.emit('change');
    } catch (e) {
      this.fail(e);
    }
  }

  // --- sampling -----------------------------------------------------------------------------

  /** Samples from the EMA weights, reporting x_t and x̂0 every `every` steps. */
  async sample(request: SampleRequest): Promise<void> {
    const trainer = this.trainer;
    if (!trainer || this.sampling.running || !this.gpuReady) return;
    this.error = null;
    const c = trainer.config.model;
    const batch = (data: Float32Array): ImageBatch => ({ data, n: request.n, channels: c.inChannels, size: c.imageSize });
    const totalSteps = request.sampler === 'ddpm' ? trainer.diffusion.T : Math.min(request.steps, trainer.diffusion.T);
    const abort = (this.samplingAbort = new AbortController());
    this.sampling = { running: true, fromStep: trainer.step, totalSteps, frames: [], result: null, seconds: 0 };
    this.emit('change');
    const t0 = performance.now();
    try {
      const images = await this.exclusive(() =>
        sample(trainer.evalModel(), trainer.diffusion, {
          n: request.n,
          sampler: request.sampler,
          steps: totalSteps,
          eta: request.eta,
          seed: request.seed,
          every: Math.max(1, request.every),
          signal: abort.signal,
          onFrame: (f) => {
            this.sampling = { ...this.sampling, frames: [...this.sampling.frames, { index: f.index, t: f.t, xt: batch(f.xt), x0: batch(f.x0) }] };
            this.emit('frame');
          },
        }),
      );
      this.sampling = { ...this.sampling, running: false, result: batch(images), seconds: (performance.now() - t0) / 1000 };
    } catch (e) {
      this.sampling = { ...this.sampling, running: false };
      if (!abort.signal.aborted && this.engine.kind !== 'lost') this.fail(e);
    }
    this.emit('change');
  }

  /** Stops sampling before its next step. */
  stopSample(): void {
    this.samplingAbort?.abort();
  }

  /** Whether a model exists to sample from. */
  get canSample(): boolean {
    return this.trainer !== null && this.gpuReady;
  }
}
