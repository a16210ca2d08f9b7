// Checkpoint files of a session: a trainer's full state to bytes and back, and inference models
// (EMA or raw weights) from a checkpoint.

import { GaussianDiffusion } from '../model/diffusion/gaussian-diffusion.ts';
import {
  captureCheckpoint,
  modelFromCheckpoint,
  parseCheckpoint,
  trainerFromCheckpoint,
  type ParsedCheckpoint,
} from '../model/train/checkpoint.ts';
import { Trainer, type Dataset } from '../model/train/trainer.ts';
import type { UNet } from '../model/unet.ts';

export type { ParsedCheckpoint };

/** Which weights to sample or evaluate: the EMA (what DDPM reports) or the trained ones. */
export type Weights = 'ema' | 'raw';

/** Parses and validates checkpoint bytes (nothing else changes when they are refused). */
export function readCheckpoint(bytes: Uint8Array): ParsedCheckpoint {
  return parseCheckpoint(bytes);
}

/** A trainer's full state (weights, EMA, Adam's moments, counters) as safetensors bytes. */
export function writeCheckpoint(trainer: Trainer): Promise<Uint8Array> {
  return captureCheckpoint(trainer);
}

/** The file name a checkpoint is offered under, e.g. ddpm-tiny-fashion-step400.safetensors. */
export function checkpointFileName(preset: string, step: number): string {
  return `ddpm-${preset}-step${step}.safetensors`;
}

/** A trainer continuing a checkpoint on `data`. */
export function resumeTrainer(checkpoint: ParsedCheckpoint, data: Dataset): Trainer {
  return trainerFromCheckpoint(checkpoint, data);
}

/** A model to sample or evaluate, and what to dispose when done with it. */
export interface InferenceModel {
  model: UNet;
  diffusion: GaussianDiffusion;
  /** The training step the weights are from. */
  step: number;
  dispose(): void;
}

/** The checkpoint's model with its EMA or raw weights, and its diffusion. */
export function checkpointModel(checkpoint: ParsedCheckpoint, weights: Weights): InferenceModel {
  const model = modelFromCheckpoint(checkpoint, weights);
  const diffusion = new GaussianDiffusion(checkpoint.config.diffusion);
  return {
    model,
    diffusion,
    step: checkpoint.step,
    dispose: () => {
      model.dispose();
      diffusion.dispose();
    },
  };
}

/** A running trainer's model with its EMA or raw weights (owned by the trainer: dispose does nothing). */
export function trainerModel(trainer: Trainer, weights: Weights): InferenceModel {
  return {
    model: weights === 'raw' ? trainer.model : trainer.evalModel(),
    diffusion: trainer.diffusion,
    step: trainer.step,
    dispose: () => {},
  };
}
