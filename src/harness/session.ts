// In-page driver for the CLI's train / sample / eval commands: holds one trainer (or a model
// loaded from a checkpoint), loads datasets, and moves bytes (checkpoints, PNG grids) in chunks
// of base64 text so large files cross the DevTools protocol.

import { runtime } from '../engine/index.ts';
import { prepareImages } from '../model/data/loader.ts';
import { imageSetFromFiles, loadIdxDataset, type Split } from '../model/data/sources.ts';
import type { ImageSet } from '../model/data/idx.ts';
import { GaussianDiffusion } from '../model/diffusion/gaussian-diffusion.ts';
import { sample, type SampleOptions } from '../model/diffusion/sample.ts';
import { evaluateBound, type BoundReport } from '../model/diffusion/evaluate.ts';
import { captureCheckpoint, parseCheckpoint, restoreCheckpoint } from '../model/train/checkpoint.ts';
import {
  Trainer,
  makeTrainConfig,
  type Dataset,
  type StepRecord,
  type TrainConfig,
} from '../model/train/trainer.ts';
import { UNet } from '../model/unet.ts';
import { imagesToPngGrid } from '../ui/png-grid.ts';

export type DatasetSpec =
  | { kind: 'idx'; url: string; split: Split; name: string; limit?: number }
  | { kind: 'files'; files: { name: string; base64: string }[] };

const CHUNK = 4 * 1024 * 1024;
let trainer: Trainer | null = null;
let outgoing: Uint8Array | null = null;
let incoming: Uint8Array[] = [];

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function loadImageSet(spec: DatasetSpec, size: number, channels: number): Promise<ImageSet> {
  if (spec.kind === 'idx') {
    const set = await loadIdxDataset(spec.url, spec.split, spec.name);
    if (!spec.limit || spec.limit >= set.count) return set;
    return { ...set, count: spec.limit, images: set.images.subarray(0, spec.limit * set.height * set.width) };
  }
  const blobs = spec.files.map((f) => new File([fromBase64(f.base64) as BlobPart], f.name));
  if (channels !== 1 && channels !== 3) throw new Error(`image folders need a model with 1 or 3 input channels, not ${channels}`);
  return imageSetFromFiles(blobs, size, channels);
}

async function loadDataset(spec: DatasetSpec, config: TrainConfig): Promise<Dataset> {
  const { imageSize, inChannels } = config.model;
  const set = await loadImageSet(spec, imageSize, inChannels);
  if (set.channels !== inChannels) {
    throw new Error(`the dataset has ${set.channels} channel(s) but the model takes ${inChannels}`);
  }
  return { images: prepareImages(set, imageSize), count: set.count, shape: [inChannels, imageSize, imageSize] };
}

function requireTrainer(): Trainer {
  if (!trainer) throw new Error('no training session: call start() first');
  return trainer;
}

/** Bytes queued for the Node side, read back with `take(i)`; returns the chunk count. */
function offer(bytes: Uint8Array): { bytes: number; chunks: number } {
  outgoing = bytes;
  return { bytes: bytes.length, chunks: Math.ceil(bytes.length / CHUNK) };
}

export const session = {
  report: () => runtime().report,

  /** Bytes arriving from Node (a checkpoint to resume from), chunk by chunk. */
  receive(base64: string, first: boolean): number {
    if (first) incoming = [];
    incoming.push(fromBase64(base64));
    return incoming.reduce((n, c) => n + c.length, 0);
  },

  take(index: number): string {
    if (!outgoing) throw new Error('nothing to take');
    return toBase64(outgoing.subarray(index * CHUNK, (index + 1) * CHUNK));
  },

  /** Starts training from a config, or resumes from the received checkpoint. */
  async start(args: { config?: Partial<TrainConfig>; resume: boolean; dataset: DatasetSpec }): Promise<{
    step: number;
    config: TrainConfig;
    images: number;
    parameters: number;
  }> {
    trainer?.dispose();
    trainer = null;
    const parsed = args.resume ? parseCheckpoint(concat(incoming)) : null;
    const config = parsed ? parsed.config : makeTrainConfig(args.config as TrainConfig);
    const data = await loadDataset(args.dataset, config);
    const t = new Trainer(config, data);
    try {
      if (parsed) restoreCheckpoint(t, parsed);
    } catch (e) {
      t.dispose();
      throw e;
    }
    trainer = t;
    return { step: t.step, config, images: data.count, parameters: t.model.parameterCount() };
  },

  async train(steps: number): Promise<StepRecord[]> {
    return requireTrainer().train(steps);
  },

  async checkpoint(): Promise<{ bytes: number; chunks: number }> {
    return offer(await captureCheckpoint(requireTrainer()));
  },

  /** A PNG grid of samples from the EMA weights (of the trainer, or of a received checkpoint). */
  async sampleGrid(options: Omit<SampleOptions, 'onFrame'> & { fromCheckpoint?: boolean; useEma?: boolean }): Promise<{
    bytes: number;
    chunks: number;
    seconds: number;
  }> {
    const t0 = performance.now();
    let model: UNet;
    let diffusion: GaussianDiffusion;
    let cleanup = () => {};
    if (options.fromCheckpoint) {
      const parsed = parseCheckpoint(concat(incoming));
      model = new UNet(parsed.config.model).build(0).eval();
      const prefix = options.useEma === false ? '' : 'ema.';
      model.loadStateDict(
        new Map([...model.namedParameters()].map(([name]) => [name, parsed.tensors.get(prefix + name)!])),
      );
      diffusion = new GaussianDiffusion(parsed.config.diffusion);
      cleanup = () => {
        model.dispose();
        diffusion.dispose();
      };
    } else {
      const t = requireTrainer();
      model = options.useEma === false ? t.model : t.evalModel();
      diffusion = t.diffusion;
    }
    try {
      const images = await sample(model, diffusion, options);
      const c = model.config;
      const png = await imagesToPngGrid(images, options.n, c.inChannels, c.imageSize, 2);
      return { ...offer(png), seconds: (performance.now() - t0) / 1000 };
    } finally {
      cleanup();
    }
  },

  /** The test-set variational bound of the received checkpoint's EMA model. */
  async evaluate(args: { dataset: DatasetSpec; n: number; batch: number; terms: number; seed: number }): Promise<BoundReport> {
    const parsed = parseCheckpoint(concat(incoming));
    const model = new UNet(parsed.config.model).build(0).eval();
    model.loadStateDict(new Map([...model.namedParameters()].map(([name]) => [name, parsed.tensors.get(`ema.${name}`)!])));
    const diffusion = new GaussianDiffusion(parsed.config.diffusion);
    try {
      const data = await loadDataset({ ...args.dataset, ...(args.dataset.kind === 'idx' ? { limit: args.n } : {}) }, parsed.config);
      return await evaluateBound(model, diffusion, data, { batch: args.batch, terms: args.terms, seed: args.seed });
    } finally {
      model.dispose();
      diffusion.dispose();
    }
  },

  stop(): void {
    trainer?.dispose();
    trainer = null;
  },
};

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
