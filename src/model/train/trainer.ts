// The training loop: one step encodes data upload, noise, forward, loss, backward, Adam and EMA
// and submits once; losses come back asynchronously. Every random draw derives from
// (seed, step), so a run resumed from a checkpoint continues exactly as an uninterrupted one.
// The step's GPU work is captured at its first call and replayed after (src/engine/replay.ts):
// the batch, its timesteps (and importance weights) are the run's inputs, and what changes from
// step to step besides them (the noise and dropout seeds, Adam's rate and count, the EMA decay)
// is live, read again at each replay.

import {
  add,
  backward,
  CapturedRun,
  concat,
  deriveSeed,
  detach,
  flush,
  live,
  mulScalar,
  randomNormal,
  scope,
  tensor,
  type Scalar,
  Tensor,
  zeroGrad,
} from '../../engine/index.ts';
import { validateConfig, type UNetConfig } from '../config.ts';
import { BatchLoader, type LoaderState } from '../data/loader.ts';
import {
  GaussianDiffusion,
  DEFAULT_DIFFUSION,
  type DiffusionOptions,
} from '../diffusion/gaussian-diffusion.ts';
import { UNet } from '../unet.ts';
import { largestPerSampleBytes, microBatches, samplesPerBinding } from '../micro-batches.ts';
import type { Execution } from '../replayed-forward.ts';
import { Adam, Ema, emaDecayAt } from './optimizer.ts';
import { TimestepSampler, type TimestepSamplerState } from './timestep-sampler.ts';

export interface OptimizerConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW (decoupled weight decay) instead of Adam. */
  adamw: boolean;
  /** Linear learning-rate warm-up over this many steps. */
  warmupSteps: number;
  /** Cosine decay of the learning rate from the end of warm-up to `decaySteps` (0: constant). */
  decaySteps: number;
  /** The learning rate at the end of the decay, as a fraction of `lr`. */
  minLrRatio: number;
  /** Global gradient-norm clip (0: off). */
  maxGradNorm: number;
}

export interface TrainConfig {
  model: UNetConfig;
  diffusion: DiffusionOptions;
  optimizer: OptimizerConfig;
  emaDecay: number;
  /** EMA decay min(emaDecay, (1 + step) / (10 + step)) (diffusers' use_ema_warmup). */
  emaWarmup: boolean;
  batchSize: number;
  seed: number;
  timestepSampling: 'uniform' | 'importance';
  horizontalFlip: boolean;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  lr: 2e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  adamw: false,
  warmupSteps: 5000,
  decaySteps: 0,
  minLrRatio: 0.1,
  maxGradNorm: 1,
};

/** Fills defaults (DDPM's: Adam 2e-4, warm-up 5000, clip 1, EMA 0.9999) and validates. */
export type TrainConfigInput = Partial<Omit<TrainConfig, 'model' | 'diffusion' | 'optimizer'>> & {
  model: Partial<UNetConfig>;
  diffusion?: Partial<DiffusionOptions>;
  optimizer?: Partial<OptimizerConfig>;
};

export function makeTrainConfig(partial: TrainConfigInput): TrainConfig {
  const config: TrainConfig = {
    diffusion: { ...DEFAULT_DIFFUSION, ...partial.diffusion },
    optimizer: { ...DEFAULT_OPTIMIZER, ...partial.optimizer },
    emaDecay: partial.emaDecay ?? 0.9999,
    emaWarmup: partial.emaWarmup ?? true,
    batchSize: partial.batchSize ?? 128,
    seed: partial.seed ?? 0,
    timestepSampling: partial.timestepSampling ?? 'uniform',
    horizontalFlip: partial.horizontalFlip ?? false,
    model: validateConfig(partial.model),
  };
  const o = config.optimizer;
  if (!(config.diffusion.minSnrGamma >= 0)) throw new Error(`diffusion.minSnrGamma must be ≥ 0 (0: off), got ${config.diffusion.minSnrGamma}`);
  if (!Number.isInteger(o.decaySteps) || o.decaySteps < 0) throw new Error(`optimizer.decaySteps must be an integer ≥ 0, got ${o.decaySteps}`);
  if (!(o.minLrRatio >= 0 && o.minLrRatio <= 1)) throw new Error(`optimizer.minLrRatio must be in [0, 1], got ${o.minLrRatio}`);
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${config.batchSize}`);
  if ((config.diffusion.variance === 'learned') !== config.model.learnedVariance) {
    throw new Error(`diffusion variance '${config.diffusion.variance}' and model.learnedVariance=${config.model.learnedVariance} disagree`);
  }
  return config;
}

/** The learning rate of `o` at `step` (0-based). */
export function learningRateAt(o: OptimizerConfig, step: number): number {
  const warm = o.warmupSteps > 0 ? Math.min(1, (step + 1) / o.warmupSteps) : 1;
  if (o.decaySteps <= o.warmupSteps) return o.lr * warm;
  const progress = Math.min(1, Math.max(0, step - o.warmupSteps) / (o.decaySteps - o.warmupSteps));
  return o.lr * warm * (o.minLrRatio + (1 - o.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * A run that went non-finite: its loss (read back at `step`) or a tensor of its state. Its
 * weights are poisoned: nothing may resume from or save them.
 */
export class DivergedError extends Error {
  constructor(
    /** The step at which it was seen (the loss's step, or the trainer's step for its state). */
    readonly step: number,
    /** e.g. "the loss became NaN" or "'ema.conv_in.weight' holds non-finite values". */
    readonly what: string,
  ) {
    super(`training diverged at step ${step}: ${what}`);
    this.name = 'DivergedError';
  }
}

export interface StepRecord {
  step: number;
  loss: number;
  mse: number;
}

export interface Dataset {
  images: Float32Array;
  count: number;
  shape: readonly [number, number, number];
}

/** A tensor of a trainer's state, on the CPU. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

/** The tensor groups of a trainer's state, as name prefixes: parameters, EMA weights, Adam's moments. */
export const STATE_GROUPS = ['', 'ema.', 'adam.m.', 'adam.v.'] as const;

/** A trainer's full state: its counters, and every tensor of STATE_GROUPS by prefixed parameter name. */
export interface TrainerState {
  step: number;
  adamStep: number;
  loader: LoaderState;
  timesteps: TimestepSamplerState;
  tensors: Map<string, StateTensor>;
}

/** The uploads of one part of a step's batch: its images and timesteps, and with importance sampling their weights. */
const stepInputsPerPart = (importance: boolean): number => (importance ? 3 : 2);

export class Trainer {
  /** Replaced only by setLearningRate (a checkpoint records the config as it is). */
  config: TrainConfig;
  readonly model: UNet;
  readonly diffusion: GaussianDiffusion;
  readonly adam: Adam;
  readonly ema: Ema;
  readonly loader: BatchLoader;
  timesteps: TimestepSampler;
  /** Steps taken (the next step's index). */
  step = 0;
  /** 'replay' (the default): the step is captured once and replayed; 'eager': op by op. */
  execution: Execution = 'replay';
  /** The step as captured, replayed while a step's inputs have the shapes it was captured with. */
  private compiled: CapturedRun | null = null;
  private evalModelCache: UNet | null = null;
  /** Bytes of the largest tensor one sample's training step binds (microBatchSize). */
  private readonly largestPerSample: number;

  constructor(config: TrainConfig, data: Dataset) {
    this.config = config;
    const m = config.model;
    const [C, H, W] = data.shape;
    if (C !== m.inChannels || H !== m.imageSize || W !== m.imageSize) {
      throw new Error(`the data are [${data.shape}] but the model takes [${m.inChannels},${m.imageSize},${m.imageSize}]`);
    }
    this.diffusion = new GaussianDiffusion(config.diffusion);
    this.model = new UNet(m).build(config.seed);
    this.largestPerSample = largestPerSampleBytes(m);
    const o = config.optimizer;
    this.adam = new Adam(this.model, {
      lr: o.lr,
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: o.weightDecay,
      decoupledWeightDecay: o.adamw,
      maxGradNorm: o.maxGradNorm,
    });
    this.ema = new Ema(this.model, config.emaDecay);
    this.loader = new BatchLoader(data.images, data.count, data.shape, {
      batchSize: config.batchSize,
      seed: config.seed,
      horizontalFlip: config.horizontalFlip,
    });
    this.timesteps = new TimestepSampler(this.diffusion.T, config.timestepSampling);
  }

  /**
   * Changes the peak learning rate from the next step on; warm-up and decay keep their shape and
   * lengths. The config (and so a checkpoint) records the new rate.
   */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`the learning rate must be a positive number, got ${lr}`);
    this.config = { ...this.config, optimizer: { ...this.config.optimizer, lr } };
  }

  /** The learning rate at `step`: linear warm-up, then constant or cosine-decayed to `minLrRatio`·lr at `decaySteps`. */
  lrAt(step: number): number {
    return learningRateAt(this.config.optimizer, step);
  }

  /**
   * Samples per micro-batch: the step's batch is split so that no tensor it binds (a layer's
   * output, attention's scores) exceeds the device's storage-binding limit, and the gradients of
   * the parts add up to the whole batch's. The whole batch when it fits.
   */
  microBatchSize(): number {
    return samplesPerBinding(this.largestPerSample, this.config.batchSize);
  }

  /**
   * Encodes one full training step and submits it; nothing waits for the GPU. Returns the loss
   * tensors (the caller reads and disposes them) and the timesteps used.
   */
  trainStep(): { loss: Tensor; mse: Tensor; perSample: Tensor; t: number[] } {
    const { seed, batchSize } = this.config;
    const [C, H, W] = this.loader.shape;
    const sample = C * H * W;
    const draw = this.timesteps.draw(batchSize, deriveSeed(seed, 'timesteps', this.step));
    const images = this.loader.next();
    const parts = microBatches(batchSize, this.microBatchSize());
    const importance = this.config.timestepSampling === 'importance';
    // The step's uploads, part after part (stepInputsPerPart of them each, in encodeStep's order).
    const inputs = parts.flatMap(({ start, count }) => [
      tensor(images.subarray(start * sample, (start + count) * sample), [count, C, H, W]),
      this.diffusion.timesteps(draw.t.slice(start, start + count)),
      ...(importance ? [tensor(draw.weights.slice(start, start + count), [count])] : []),
    ]);
    const encode = (...xs: Tensor[]) => this.encodeStep(parts, importance, xs);
    let outputs: Tensor[];
    this.adam.step++;
    try {
      if (this.execution === 'eager') {
        this.dropCompiled();
        outputs = scope(() => encode(...inputs));
      } else if (this.compiled?.fits(inputs)) {
        outputs = this.compiled.replayMany(inputs);
      } else {
        // New shapes (another micro-batch split): the old capture gives its memory back.
        this.dropCompiled();
        const { run, results } = CapturedRun.captureMany(inputs, encode);
        this.compiled = run;
        outputs = results;
      }
    } catch (e) {
      this.adam.step--;
      throw e;
    } finally {
      for (const t of inputs) t.dispose();
    }
    flush();
    this.step++;
    const [loss, mse, perSample] = outputs as [Tensor, Tensor, Tensor];
    return { loss, mse, perSample, t: draw.t };
  }

  /**
   * The GPU work of the current step on its uploads (per part: images, timesteps, weights):
   * noise, forward, loss, backward, Adam, EMA. Returns [loss, mse, perSample]. What varies with
   * the step is live, so a replay of this work is the step it replays at.
   */
  private encodeStep(parts: readonly { start: number; count: number }[], importance: boolean, inputs: readonly Tensor[]): Tensor[] {
    const { batchSize } = this.config;
    const [C, H, W] = this.loader.shape;
    const sample = C * H * W;
    const perPart = stepInputsPerPart(importance);
    const noiseSeed = live('the noise seed', () => deriveSeed(this.config.seed, 'noise', this.step));
    const dropoutSeed = (part: number): Scalar =>
      live('the dropout seed', () =>
        parts.length === 1 ? deriveSeed(this.config.seed, 'dropout', this.step) : deriveSeed(this.config.seed, 'dropout', this.step, part),
      );
    const terms = parts.map(({ start, count }, part) =>
      scope(() => {
        const [x0, t, weights] = inputs.slice(part * perPart, (part + 1) * perPart) as [Tensor, Tensor, Tensor | undefined];
        // Counter-based noise: a part draws the whole batch's values at its offset (2 counters a normal).
        const eps = randomNormal([count, C, H, W], { seed: noiseSeed, counter: 2 * start * sample });
        const r = this.diffusion.trainingLoss(this.model, x0, t, eps, { dropoutSeed: dropoutSeed(part), ...(weights ? { weights } : {}) });
        if (parts.length === 1) {
          backward(r.loss);
          return { loss: r.loss, mse: r.mse, perSample: r.perSample };
        }
        // The batch's loss is the parts' means weighted by their share of the batch.
        const share = count / batchSize;
        const loss = mulScalar(r.loss, share);
        backward(loss);
        return { loss, mse: mulScalar(r.mse, share), perSample: detach(r.perSample) };
      }),
    );
    this.adam.encodeUpdate(
      live('the learning rate', () => this.lrAt(this.step)),
      live("Adam's step", () => this.adam.step),
    );
    this.ema.update(live('the EMA decay', () => emaDecayAt(this.ema.decay, this.step, this.config.emaWarmup)));
    zeroGrad(this.model.parameters().map((p) => p.value));
    if (terms.length === 1) return [terms[0]!.loss, terms[0]!.mse, terms[0]!.perSample];
    const total = (xs: Tensor[]) => xs.reduce((a, b) => add(a, b));
    return [total(terms.map((r) => r.loss)), total(terms.map((r) => r.mse)), concat(terms.map((r) => r.perSample), 0)];
  }

  /** Bytes of the captured step's intermediates as its capture used them and as it holds them (planned); null before a capture. */
  get compiledStepMemory(): { captured: number; planned: number } | null {
    return this.compiled?.memory ?? null;
  }

  /** Gives the captured step's memory back (the next step captures again). */
  dropCompiled(): void {
    this.compiled?.dispose();
    this.compiled = null;
  }

  /**
   * Runs `steps` steps. Losses are read back asynchronously, at most `lag` steps behind the
   * step being encoded (that bounds how far the CPU runs ahead of the GPU).
   */
  async train(steps: number, onStep?: (r: StepRecord) => void, lag = 2): Promise<StepRecord[]> {
    const records: StepRecord[] = [];
    const pending: Promise<void>[] = [];
    // A failed read (a non-finite loss) ends the run; the reads still in flight end quietly with it.
    const abandon = (e: unknown): never => {
      for (const p of pending) p.catch(() => undefined);
      throw e;
    };
    for (let i = 0; i < steps; i++) {
      const step = this.step;
      const r = this.trainStep();
      const importance = this.config.timestepSampling === 'importance';
      const reads = Tensor.readAll(importance ? [r.loss, r.mse, r.perSample] : [r.loss, r.mse]);
      r.loss.dispose();
      r.mse.dispose();
      r.perSample.dispose();
      pending.push(
        reads.then((values) => {
          const [loss, mse, perSample] = values as [Float32Array, Float32Array, Float32Array?];
          if (perSample) this.timesteps.update(r.t, perSample);
          const rec = { step, loss: loss[0]!, mse: mse[0]! };
          if (!Number.isFinite(rec.loss)) throw new DivergedError(step, `the loss became ${rec.loss}`);
          records.push(rec);
          onStep?.(rec);
        }),
      );
      if (pending.length > lag) await pending.shift()!.catch((e) => abandon(e));
    }
    await Promise.all(pending).catch((e) => abandon(e));
    return records;
  }

  /** The model with the EMA weights (what sampling uses), sharing the EMA buffer. */
  evalModel(): UNet {
    this.evalModelCache ??= new UNet(this.config.model).viewOver(this.model.arena!, this.ema.buffer).eval();
    return this.evalModelCache;
  }

  dispose(): void {
    this.evalModelCache?.parameters().forEach((p) => p.dispose());
    this.dropCompiled();
    this.diffusion.dispose();
    this.model.dispose();
  }

  /** The arena buffers of the state groups, in STATE_GROUPS order. */
  private stateBuffers(): GPUBuffer[] {
    return [this.model.valuesBuffer!, this.ema.buffer, this.adam.m, this.adam.v];
  }

  /** Everything a resumed run needs to continue exactly (reads every state buffer back). */
  async state(): Promise<TrainerState> {
    const arena = this.model.arena!;
    const buffers = this.stateBuffers();
    const tensors = new Map<string, StateTensor>();
    for (let g = 0; g < STATE_GROUPS.length; g++) {
      const flat = arena.flatTensor(buffers[g]!, 'trainer-state');
      const all = await flat.read();
      flat.dispose();
      for (const e of arena.entries) tensors.set(STATE_GROUPS[g] + e.name, { shape: [...e.shape], data: all.slice(e.offset, e.offset + e.size) });
    }
    return { step: this.step, adamStep: this.adam.step, loader: this.loader.getState(), timesteps: this.timesteps.state(), tensors };
  }

  /** What keeps `tensors` from fitting this trainer's model (missing names, other shapes); empty when they fit. */
  stateMismatches(tensors: ReadonlyMap<string, { shape: readonly number[] }>): string[] {
    const problems: string[] = [];
    for (const g of STATE_GROUPS) {
      for (const e of this.model.arena!.entries) {
        const t = tensors.get(g + e.name);
        if (!t) problems.push(`missing '${g + e.name}'`);
        else if (t.shape.join(',') !== e.shape.join(',')) problems.push(`'${g + e.name}' is [${t.shape}], the model needs [${e.shape}]`);
      }
    }
    return problems;
  }

  /** Continues from `state` (checked first: nothing changes when it does not fit). */
  loadState(state: TrainerState): void {
    const problems = this.stateMismatches(state.tensors);
    if (problems.length > 0) throw new Error(`does not match the model: ${problems.slice(0, 5).join('; ')}`);
    const arena = this.model.arena!;
    const buffers = this.stateBuffers();
    STATE_GROUPS.forEach((g, k) => arena.entries.forEach((e, i) => arena.upload(buffers[k]!, i, state.tensors.get(g + e.name)!.data)));
    this.step = state.step;
    this.adam.step = state.adamStep;
    this.loader.setState(state.loader);
    this.timesteps = new TimestepSampler(this.diffusion.T, this.config.timestepSampling, state.timesteps);
  }
}
