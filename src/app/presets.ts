// Model presets and the demo's training settings: which U-Net, at which image size, and the
// training config a set of settings makes.

import { PRESETS, preset, type UNetConfig } from '../model/config.ts';
import { makeTrainConfig, type TrainConfig } from '../model/train/trainer.ts';
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

/** The training config of the demo's settings on a schedule. */
export function configFromSettings(settings: TrainSettings, schedule: ScheduleChoice): TrainConfig {
  return makeTrainConfig({
    model: preset(settings.preset),
    diffusion: { schedule: { type: schedule.type, T: schedule.T } },
    optimizer: { lr: settings.lr, warmupSteps: settings.warmupSteps },
    batchSize: settings.batchSize,
    emaDecay: settings.emaDecay,
    seed: settings.seed,
  });
}
