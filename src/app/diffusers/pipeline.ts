// diffusers folders in and out: a UNet2DModel folder (config.json + weights) or a whole
// DDPMPipeline / DDIMPipeline folder (model_index.json, unet/, scheduler/) ↔ our training config
// and weights. Everything is checked before anything is returned; nothing here needs a GPU.

import { makeTrainConfig, type StateTensor, type TrainConfig } from '../../model/train/trainer.ts';
import type { ParsedCheckpoint } from '../../model/train/checkpoint.ts';
import { DIFFUSERS_FILES, DiffusersError, readJson, weightsFile, type FileSource } from './files.ts';
import { pythonJson } from './python-json.ts';
import { diffusersSchedulerConfig, diffusionFromScheduler, SCHEDULER_CLASSES, SCHEDULER_FLOAT_KEYS, type SchedulerKind } from './scheduler-config.ts';
import { diffusersUnetConfig, DIFFUSERS_VERSION, UNET_CLASS, UNET_FLOAT_KEYS, unetConfigFromDiffusers } from './unet-config.ts';
import { unetWeights, weightsFileBytes } from './weights.ts';

export const PIPELINE_CLASSES = { ddpm: 'DDPMPipeline', ddim: 'DDIMPipeline' } as const;

export interface ImportedModel {
  /** A whole pipeline folder, or a bare UNet2DModel folder. */
  layout: 'pipeline' | 'unet';
  config: TrainConfig;
  weights: Map<string, StateTensor>;
  /** What the import assumed. */
  notes: string[];
}

const keyOf = (table: Record<string, string>, value: unknown): string | undefined => Object.keys(table).find((k) => table[k] === value);

/** The components of a pipeline's model_index.json: its class and its scheduler class. */
function readModelIndex(source: FileSource): { pipeline: SchedulerKind } {
  const file = DIFFUSERS_FILES.modelIndex;
  const index = readJson(source, file);
  const pipeline = keyOf(PIPELINE_CLASSES, index._class_name) as SchedulerKind | undefined;
  if (!pipeline) throw new DiffusersError(`${file}: _class_name ${JSON.stringify(index._class_name)} is not supported: use ${Object.values(PIPELINE_CLASSES).join(' or ')}`);
  for (const [key, value] of Object.entries(index)) {
    if (key.startsWith('_')) continue;
    const ok =
      key === 'unet' ? JSON.stringify(value) === JSON.stringify(['diffusers', UNET_CLASS]) :
      key === 'scheduler' ? Array.isArray(value) && value[0] === 'diffusers' && Object.values(SCHEDULER_CLASSES).includes(value[1]) :
      false;
    if (!ok) throw new DiffusersError(`${file}: component ${key} ${JSON.stringify(value)} is not supported (a ${PIPELINE_CLASSES[pipeline]} has unet ["diffusers", "${UNET_CLASS}"] and scheduler ["diffusers", "${SCHEDULER_CLASSES.ddpm}" or "${SCHEDULER_CLASSES.ddim}"])`);
  }
  for (const key of ['unet', 'scheduler']) if (!(key in index)) throw new DiffusersError(`${file}: component ${key} is missing`);
  return { pipeline };
}

/**
 * Reads a diffusers folder: a pipeline (model_index.json at the top) or a UNet2DModel (config.json
 * at the top; sampled with DDPMScheduler's defaults). Pickle weights are refused with how to convert them.
 */
export function importDiffusers(source: FileSource): ImportedModel {
  const notes: string[] = [];
  const pipeline = source.names.includes(DIFFUSERS_FILES.modelIndex);
  if (!pipeline && !source.names.includes(DIFFUSERS_FILES.config)) {
    throw new DiffusersError(`neither ${DIFFUSERS_FILES.modelIndex} (a pipeline folder) nor ${DIFFUSERS_FILES.config} (a ${UNET_CLASS} folder) is there`);
  }
  const dir = pipeline ? 'unet/' : '';
  let diffusion;
  if (pipeline) {
    const { pipeline: kind } = readModelIndex(source);
    const schedulerFile = `scheduler/${DIFFUSERS_FILES.scheduler}`;
    diffusion = diffusionFromScheduler(readJson(source, schedulerFile), schedulerFile);
    diffusion.diffusers!.pipeline = kind;
    if (kind === 'ddim' && diffusion.diffusers!.scheduler === 'ddpm') notes.push(`${PIPELINE_CLASSES.ddim} turns its ${SCHEDULER_CLASSES.ddpm} config into a ${SCHEDULER_CLASSES.ddim}: DDIM is its sampler`);
  } else {
    diffusion = diffusionFromScheduler({ _class_name: SCHEDULER_CLASSES.ddpm }, '(no scheduler)');
    notes.push(`no scheduler in a bare ${UNET_CLASS} folder: ${SCHEDULER_CLASSES.ddpm}'s defaults assumed (linear β 1e-4 … 0.02, T = 1000, ε prediction)`);
  }
  const configFile = dir + DIFFUSERS_FILES.config;
  const model = unetConfigFromDiffusers(readJson(source, configFile), configFile, diffusion.variance === 'learned');
  const weightsPath = weightsFile(source, dir, pipeline);
  let config: TrainConfig;
  try {
    config = makeTrainConfig({ model, diffusion });
  } catch (e) {
    throw new DiffusersError((e as Error).message);
  }
  const weights = unetWeights(source.read(weightsPath), weightsPath, config.model);
  return { layout: pipeline ? 'pipeline' : 'unet', config, weights, notes };
}

export interface ExportOptions {
  /** The EMA weights (default; what DDPM samples with) or the trained ones. */
  weights?: 'ema' | 'raw';
  /** A whole pipeline folder (default) or only the UNet2DModel folder. */
  layout?: 'pipeline' | 'unet';
  /** The pipeline class (default: the one the model came with, else DDPMPipeline). */
  pipeline?: SchedulerKind;
}

/** A checkpoint as a diffusers folder (relative path → bytes), and notes on what has no exact diffusers form. */
export function exportDiffusers(checkpoint: ParsedCheckpoint, options: ExportOptions = {}): { files: Map<string, Uint8Array>; notes: string[] } {
  const which = options.weights ?? 'ema';
  const prefix = which === 'ema' ? 'ema.' : '';
  const { config } = checkpoint;
  const names = [...checkpoint.tensors.keys()].filter((n) => n.startsWith(prefix) && !(prefix === '' && /^(ema|adam\.[mv])\./.test(n)));
  if (names.length === 0) throw new DiffusersError(`the checkpoint has no ${which} weights`);
  const weights = new Map(names.map((n) => [n.slice(prefix.length), checkpoint.tensors.get(n)!]));
  const unetJson = diffusersUnetConfig(config.model);
  const encoder = new TextEncoder();
  const layout = options.layout ?? 'pipeline';
  const dir = layout === 'pipeline' ? 'unet/' : '';
  const files = new Map<string, Uint8Array>([
    [dir + DIFFUSERS_FILES.config, encoder.encode(pythonJson(unetJson, UNET_FLOAT_KEYS))],
    [dir + DIFFUSERS_FILES.weights, weightsFileBytes(weights)],
  ]);
  const notes: string[] = [];
  if (layout === 'pipeline') {
    const conventions = config.diffusion.diffusers;
    const pipeline = options.pipeline ?? conventions?.pipeline ?? 'ddpm';
    const kind = conventions?.scheduler ?? pipeline;
    const scheduler = diffusersSchedulerConfig(config.diffusion, kind);
    notes.push(...scheduler.notes);
    const index = {
      _class_name: PIPELINE_CLASSES[pipeline],
      _diffusers_version: DIFFUSERS_VERSION,
      scheduler: ['diffusers', SCHEDULER_CLASSES[kind]],
      unet: ['diffusers', UNET_CLASS],
    };
    files.set(DIFFUSERS_FILES.modelIndex, encoder.encode(pythonJson(index)));
    files.set(`scheduler/${DIFFUSERS_FILES.scheduler}`, encoder.encode(pythonJson(scheduler.json, SCHEDULER_FLOAT_KEYS)));
  }
  return { files, notes };
}
