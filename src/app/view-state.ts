// What a page shows of a session: the dataset, the training run and the sampler, with the one
// definition of "nothing yet" for each.

import type { DType } from '../engine/index.ts';
import type { ImageBatch } from './images.ts';
import type { SampleFrameView } from './sampling.ts';
import type { ScheduleChoice } from './schedules.ts';
import { DEFAULT_TRAIN_SETTINGS } from './presets.ts';

export interface DatasetState {
  status: 'none' | 'loading' | 'ready' | 'error';
  /** e.g. "Fashion-MNIST test: 64 images (28×28, shown at 16×16)". */
  description: string;
  message: string;
  /** The first images, at the model's size. */
  preview: ImageBatch | null;
}

/** What the current trainer was built with. */
export interface TrainerSummary {
  preset: string;
  schedule: ScheduleChoice;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  emaDecay: number;
  seed: number;
  imageSize: number;
  channels: number;
}

export interface TrainingState {
  /** 'diverged': the loss or the weights went non-finite; the run can only be reset or replaced. */
  phase: 'none' | 'running' | 'paused' | 'finished' | 'diverged';
  /** The first steps of a trainer build its GPU pipelines (seconds to a minute on a software adapter). */
  buildingPipelines: boolean;
  step: number;
  targetSteps: number;
  stepsPerSecond: number;
  parameters: number;
  /** Null before a trainer exists. */
  summary: TrainerSummary | null;
}

export interface SamplingState {
  running: boolean;
  /** The training step whose weights are sampled. */
  fromStep: number;
  totalSteps: number;
  frames: SampleFrameView[];
  result: ImageBatch | null;
  seconds: number;
  /** The precision the network ran in (null before a result). */
  precision: DType | null;
}

export function noDataset(status: 'none' | 'error' = 'none', message = ''): DatasetState {
  return { status, description: '', message, preview: null };
}

/** No trainer: nothing trained, nothing sampled (the training target stays what the user asked for). */
export function noRun(targetSteps = DEFAULT_TRAIN_SETTINGS.targetSteps): { training: TrainingState; sampling: SamplingState } {
  return {
    training: { phase: 'none', buildingPipelines: false, step: 0, targetSteps, stepsPerSecond: 0, parameters: 0, summary: null },
    sampling: { running: false, fromStep: 0, totalSteps: 0, frames: [], result: null, seconds: 0, precision: null },
  };
}
