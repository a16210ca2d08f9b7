// Checkpoints: one safetensors file with the parameters (diffusers' names, so the file opens as
// a state dict), the EMA weights, Adam's moments, and in the header metadata the full training
// config, the step, the loader and timestep-sampler state. Parsing validates everything before
// anything is changed.

import { readSafetensors, SafetensorsError, writeSafetensors } from '../../engine/index.ts';
import type { LoaderState } from '../data/loader.ts';
import { UNet } from '../unet.ts';
import { DivergedError, makeTrainConfig, STATE_GROUPS, Trainer, type Dataset, type StateTensor, type TrainConfig, type TrainerState } from './trainer.ts';
import type { TimestepSamplerState } from './timestep-sampler.ts';

export const CHECKPOINT_FORMAT = 'ddpm-webgpu-checkpoint';
export const CHECKPOINT_VERSION = '1';

export class CheckpointError extends Error {
  constructor(message: string) {
    super(`checkpoint: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** A trainer's state (its tensor groups: '' parameters, 'ema.', 'adam.m.', 'adam.v.') and its config. */
export interface ParsedCheckpoint extends TrainerState {
  config: TrainConfig;
}

/** The trainer's full state as safetensors bytes; a state holding NaN or ∞ is refused (DivergedError). */
export async function captureCheckpoint(trainer: Trainer): Promise<Uint8Array> {
  const state = await trainer.state();
  for (const [name, t] of state.tensors) {
    if (!t.data.every(Number.isFinite)) throw new DivergedError(state.step, `'${name}' holds non-finite values, so it is not saved`);
  }
  return checkpointBytes({ config: trainer.config, ...state });
}

/** A checkpoint's bytes: its tensors (any of the STATE_GROUPS) and, in the header, config and counters. */
export function checkpointBytes(c: ParsedCheckpoint): Uint8Array {
  return writeSafetensors(c.tensors, {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: JSON.stringify(c.config),
    step: String(c.step),
    adam_step: String(c.adamStep),
    loader: JSON.stringify(c.loader),
    timesteps: JSON.stringify(c.timesteps),
  });
}

/**
 * The checkpoint of a model that was not trained here (imported weights): the weights as both the
 * trained and the EMA weights, step 0, and, with `optimizerState`, zero Adam moments, so
 * `train --resume` fine-tunes it from a fresh optimiser.
 */
export function checkpointOfWeights(config: TrainConfig, weights: ReadonlyMap<string, StateTensor>, optimizerState: boolean): ParsedCheckpoint {
  const tensors = new Map<string, StateTensor>();
  for (const group of optimizerState ? STATE_GROUPS : (['', 'ema.'] as const)) {
    for (const [name, t] of weights) {
      tensors.set(group + name, group === '' || group === 'ema.' ? t : { shape: t.shape, data: new Float32Array(t.data.length) });
    }
  }
  return {
    config,
    step: 0,
    adamStep: 0,
    loader: { seed: config.seed, epoch: 0, position: 0 },
    timesteps: config.timestepSampling === 'uniform' ? { kind: 'uniform' } : { kind: 'importance', history: Array.from({ length: config.diffusion.schedule.T }, () => []) },
    tensors,
  };
}

function json<T>(metadata: Record<string, string>, key: string): T {
  const raw = metadata[key];
  if (raw === undefined) throw new CheckpointError(`metadata has no '${key}'`);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new CheckpointError(`metadata '${key}' is not valid JSON`);
  }
}

/** Parses and validates a checkpoint without touching any trainer. */
export function parseCheckpoint(bytes: Uint8Array): ParsedCheckpoint {
  let file;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`${e.message} (truncated or corrupt file?)`);
    throw e;
  }
  const md = file.metadata;
  if (md.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`not a ddpm-webgpu checkpoint (format '${md.format ?? 'none'}')`);
  if (md.version !== CHECKPOINT_VERSION) throw new CheckpointError(`version ${md.version} is not supported (expected ${CHECKPOINT_VERSION})`);
  let config: TrainConfig;
  try {
    const raw = json<TrainConfig>(md, 'config');
    config = makeTrainConfig(raw);
  } catch (e) {
    throw e instanceof CheckpointError ? e : new CheckpointError(`its config is invalid: ${(e as Error).message}`);
  }
  const step = Number(md.step);
  const adamStep = Number(md.adam_step);
  if (!Number.isInteger(step) || step < 0 || !Number.isInteger(adamStep)) throw new CheckpointError('step counters are missing or invalid');
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of file.tensors) {
    if (t.dtype !== 'F32') throw new CheckpointError(`tensor '${name}' is ${t.dtype}, expected F32`);
    tensors.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  for (const [name, t] of tensors) {
    if (!t.data.every(Number.isFinite)) throw new CheckpointError(`tensor '${name}' holds non-finite values`);
  }
  return {
    config,
    step,
    adamStep,
    loader: json<LoaderState>(md, 'loader'),
    timesteps: json<TimestepSamplerState>(md, 'timesteps'),
    tensors,
  };
}

/** Loads every tensor and counter of `c` into `trainer` (validated first: a mismatch changes nothing). */
export function restoreCheckpoint(trainer: Trainer, c: ParsedCheckpoint): void {
  const problems = trainer.stateMismatches(c.tensors);
  if (problems.length > 0) throw new CheckpointError(`does not match the model: ${problems.slice(0, 5).join('; ')}`);
  trainer.loadState(c);
}

/** A trainer continuing from a checkpoint (bytes, or already parsed) on `data`. */
export function trainerFromCheckpoint(from: Uint8Array | ParsedCheckpoint, data: Dataset): Trainer {
  const c = from instanceof Uint8Array ? parseCheckpoint(from) : from;
  const trainer = new Trainer(c.config, data);
  try {
    restoreCheckpoint(trainer, c);
  } catch (e) {
    trainer.dispose();
    throw e;
  }
  return trainer;
}

/** A U-Net for inference with the checkpoint's EMA weights (`'ema'`) or its trained weights (`'raw'`). */
export function modelFromCheckpoint(c: ParsedCheckpoint, weights: 'ema' | 'raw' = 'ema'): UNet {
  const model = new UNet(c.config.model).build(0).eval();
  const prefix = weights === 'ema' ? 'ema.' : '';
  try {
    const missing = [...model.namedParameters()].map(([name]) => prefix + name).filter((name) => !c.tensors.has(name));
    if (missing.length > 0) throw new CheckpointError(`has no ${weights} weights: missing ${missing.slice(0, 5).map((n) => `'${n}'`).join(', ')}`);
    model.loadStateDict(new Map([...model.namedParameters()].map(([name]) => [name, c.tensors.get(prefix + name)!])));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
