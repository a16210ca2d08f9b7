// Checkpoints: one safetensors file with the parameters (diffusers' names, so the file opens as
// a state dict), the EMA weights, Adam's moments, and in the header metadata the full training
// config, the step, the loader and timestep-sampler state. Parsing validates everything before
// anything is changed.

import {
  type ParameterArena,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from '../../engine/index.ts';
import type { LoaderState } from '../data/loader.ts';
import { makeTrainConfig, Trainer, type Dataset, type TrainConfig } from './trainer.ts';
import { TimestepSampler, type TimestepSamplerState } from './timestep-sampler.ts';

export const CHECKPOINT_FORMAT = 'ddpm-webgpu-checkpoint';
export const CHECKPOINT_VERSION = '1';

/** Parts of the checkpoint stored as tensor groups: '' (parameters), 'ema.', 'adam.m.', 'adam.v.'. */
const GROUPS = ['', 'ema.', 'adam.m.', 'adam.v.'] as const;

export class CheckpointError extends Error {
  constructor(message: string) {
    super(`checkpoint: ${message}`);
    this.name = 'CheckpointError';
  }
}

export interface ParsedCheckpoint {
  config: TrainConfig;
  step: number;
  adamStep: number;
  loader: LoaderState;
  timesteps: TimestepSamplerState;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

async function readArena(arena: ParameterArena, buffer: GPUBuffer): Promise<Float32Array[]> {
  const flat = arena.flatTensor(buffer, 'checkpoint-read');
  const all = await flat.read();
  flat.dispose();
  return arena.entries.map((e) => all.slice(e.offset, e.offset + e.size));
}

/** The trainer's full state as safetensors bytes. */
export async function captureCheckpoint(trainer: Trainer): Promise<Uint8Array> {
  const arena = trainer.model.arena!;
  const buffers = [trainer.model.valuesBuffer!, trainer.ema.buffer, trainer.adam.m, trainer.adam.v];
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (let g = 0; g < GROUPS.length; g++) {
    const values = await readArena(arena, buffers[g]!);
    arena.entries.forEach((e, i) => tensors.set(GROUPS[g] + e.name, { shape: [...e.shape], data: values[i]! }));
  }
  const p = trainer.progress();
  return writeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: JSON.stringify(trainer.config),
    step: String(p.step),
    adam_step: String(p.adamStep),
    loader: JSON.stringify(p.loader),
    timesteps: JSON.stringify(p.timesteps),
  });
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

/** Checks that a parsed checkpoint fits a trainer's model (every tensor, every shape). */
function assertFits(trainer: Trainer, c: ParsedCheckpoint): void {
  const problems: string[] = [];
  for (const g of GROUPS) {
    for (const e of trainer.model.arena!.entries) {
      const t = c.tensors.get(g + e.name);
      if (!t) problems.push(`missing '${g + e.name}'`);
      else if (t.shape.join(',') !== e.shape.join(',')) problems.push(`'${g + e.name}' is [${t.shape}], the model needs [${e.shape}]`);
    }
  }
  if (problems.length > 0) throw new CheckpointError(`does not match the model: ${problems.slice(0, 5).join('; ')}`);
}

/** Loads every tensor and counter of `c` into `trainer` (validated first). */
export function restoreCheckpoint(trainer: Trainer, c: ParsedCheckpoint): void {
  assertFits(trainer, c);
  const arena = trainer.model.arena!;
  const buffers = [trainer.model.valuesBuffer!, trainer.ema.buffer, trainer.adam.m, trainer.adam.v];
  GROUPS.forEach((g, k) => arena.entries.forEach((e, i) => arena.upload(buffers[k]!, i, c.tensors.get(g + e.name)!.data)));
  trainer.step = c.step;
  trainer.adam.step = c.adamStep;
  trainer.loader.setState(c.loader);
  trainer.timesteps = new TimestepSampler(trainer.diffusion.T, c.config.timestepSampling, c.timesteps);
}

/** A trainer continuing from checkpoint bytes on `data`. */
export function trainerFromCheckpoint(bytes: Uint8Array, data: Dataset): Trainer {
  const c = parseCheckpoint(bytes);
  const trainer = new Trainer(c.config, data);
  try {
    restoreCheckpoint(trainer, c);
  } catch (e) {
    trainer.dispose();
    throw e;
  }
  return trainer;
}
