// Model presets and the demo's training settings: which U-Net, at which image size, and the
// training config a set of settings makes.

import { PRESETS, preset, type UNetConfig } from '../model/config.ts';
import { DEFAULT_OPTIMIZER, makeTrainConfig, type TrainConfig, type TrainConfigInput } from '../model/train/trainer.ts';
import { UNet } from '../model/unet.ts';
import type { ScheduleChoice } from './schedules.ts';

export const PRESET_NAMES = Object.keys(PRESETS);

export interface PresetInfo {
  name: string;
  parameters: number;
  imageSize: number;
  channels: number;
}

/** Every model preset with its image shape and parameter count (counted without a GPU). */
export function presetInfos(): PresetInfo[] {
  return PRESET_NAMES.map((name) => {
    const c = preset(name);
    return { name, parameters: new UNet(c).parameterCount(), imageSize: c.imageSize, channels: c.inChannels };
  });
}

/** The image size and channels a preset takes. */
export function presetShape(name: string): { size: number; channels: number } {
  const c = preset(name);
  return { size: c.imageSize, channels: c.inChannels };
}

/** The preset a model config is, or 'custom'. */
export function presetNameOf(model: UNetConfig): string {
  const json = JSON.stringify(model);
  return PRESET_NAMES.find((name) => JSON.stringify(preset(name)) === json) ?? 'custom';
}

/** What the demo lets a user choose before training. */
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

/**
 * The recipe of short runs on small models, chosen by measured sample quality (docs/quality-runs.md;
 * DDPM's own settings are for 800k steps: lr 2e-4, EMA 0.9999): the main command's and the demo's.
 */
export const QUICK_RUN = {
  preset: 'fashion-16',
  // More, smaller steps in the same minutes: batch 16 for 700 steps reached 0.166 where batch 32
  // for 400 reached 0.250 and batch 8 for 1100 0.187 (docs/quality-runs.md).
  batchSize: 16,
  optimizer: { lr: 2e-3, warmupSteps: 50, minLrRatio: 0.1 },
  diffusion: { objective: 'v', minSnrGamma: 5 },
  emaDecay: 0.999,
  emaWarmup: true,
} as const;

/**
 * How the quick run's sample grids and quality measurements are drawn. On the main command's
 * 400-step model (docs/quality-runs.md, 256 samples): DPM-Solver++(2M) with 10 steps 0.250,
 * 20 steps 0.250, DDIM-20 0.242, DDIM-10 0.261, DDIM-50 0.348 (the many small late steps
 * of an undertrained model speckle the background); DPM-Solver-10 draws 6.7 images/s, DDIM-20 3.9.
 */
export const QUICK_SAMPLING = { sampler: 'dpm-solver', steps: 10 } as const;

/** Overrides of the quick-run recipe: any training setting, nested ones merged field by field. */
export type QuickRunOverrides = Partial<Omit<TrainConfigInput, 'model'>> & { preset?: string; model?: Partial<UNetConfig> };

/**
 * The quick-run training config with `overrides` applied. The learning rate decays (cosine) to
 * `optimizer.decaySteps`, which a run sets to its length.
 */
export function quickRunConfig(overrides: QuickRunOverrides = {}): TrainConfigInput {
  const { preset: presetName, model, optimizer, diffusion, ...rest } = overrides;
  return {
    batchSize: QUICK_RUN.batchSize,
    emaDecay: QUICK_RUN.emaDecay,
    emaWarmup: QUICK_RUN.emaWarmup,
    ...rest,
    model: { ...preset(presetName ?? QUICK_RUN.preset), ...model },
    optimizer: { ...DEFAULT_OPTIMIZER, ...QUICK_RUN.optimizer, ...optimizer },
    diffusion: { ...QUICK_RUN.diffusion, ...diffusion },
  };
}

/** The demo's settings before a user changes them: the quick-run recipe, 2000 steps. */
export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  preset: QUICK_RUN.preset,
  batchSize: QUICK_RUN.batchSize,
  lr: QUICK_RUN.optimizer.lr,
  warmupSteps: QUICK_RUN.optimizer.warmupSteps,
  emaDecay: QUICK_RUN.emaDecay,
  targetSteps: 2000,
  seed: 0,
};

/** The training config of the demo's settings on a schedule: the quick-run recipe with them applied. */
export function configFromSettings(settings: TrainSettings, schedule: ScheduleChoice): TrainConfig {
  return makeTrainConfig(
    quickRunConfig({
      preset: settings.preset,
      diffusion: { schedule: { type: schedule.type, T: schedule.T } },
      optimizer: { lr: settings.lr, warmupSteps: settings.warmupSteps, decaySteps: settings.targetSteps },
      batchSize: settings.batchSize,
      emaDecay: settings.emaDecay,
      seed: settings.seed,
    }),
  );
}
