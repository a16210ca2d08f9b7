// The dataset of a session: loaded once from an IDX folder (with a limit) or from image files,
// then prepared (resized, scaled to [−1, 1], with its labels) once per model image size and
// channel count.

import type { ImageSet } from '../model/data/idx.ts';
import { prepareImages } from '../model/data/loader.ts';
import { imageSetFromFiles, loadIdxDataset, type Split } from '../model/data/sources.ts';
import type { Dataset } from '../model/train/trainer.ts';
import type { ImageBatch } from './images.ts';

export type { Split };

/** Where images come from: an MNIST-format folder by URL (its first `limit` images; 0: all), or image files. */
export type DatasetRequest =
  | { source: 'url'; url: string; split: Split; limit: number; name?: string }
  | { source: 'files'; files: Blob[] };

/** A dataset at one model's shape, with its labels when the source has them. */
export interface PreparedDataset extends Dataset {
  labels: Uint8Array | null;
}

type Source = { kind: 'idx'; set: ImageSet; name: string } | { kind: 'files'; files: Blob[]; name: string };

const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The first `limit` images of a set (all when limit is 0 or not smaller), labels included. */
function firstImages(set: ImageSet, limit: number): ImageSet {
  if (!(limit > 0) || limit >= set.count) return set;
  const plane = set.height * set.width * set.channels;
  return { ...set, count: limit, images: set.images.subarray(0, limit * plane), labels: set.labels?.subarray(0, limit) ?? null };
}

export class DatasetCache {
  private source: Source | null = null;
  private readonly prepared = new Map<string, PreparedDataset>();

  /** Whether a source is loaded. */
  get loaded(): boolean {
    return this.source !== null;
  }

  /** Fetches an IDX split or takes image files; any earlier source is dropped, even when this fails. */
  async load(request: DatasetRequest): Promise<void> {
    this.source = null;
    this.prepared.clear();
    if (request.source === 'url') {
      const name = request.name ?? 'Fashion-MNIST';
      const set = await loadIdxDataset(request.url, request.split, name);
      this.source = { kind: 'idx', set: firstImages(set, request.limit), name: `${name} ${request.split}` };
    } else {
      const n = request.files.length;
      if (n === 0) throw new Error('no image files were picked');
      this.source = { kind: 'files', files: request.files, name: `${plural(n, 'picked image')}` };
    }
  }

  /** The source at `size`×`size` with `channels` channels (prepared on first use, then cached). */
  async prepare(size: number, channels: number): Promise<PreparedDataset> {
    const key = `${size}x${channels}`;
    const cached = this.prepared.get(key);
    if (cached) return cached;
    const source = this.source;
    if (!source) throw new Error('load a dataset first');
    let set: ImageSet;
    if (source.kind === 'idx') {
      set = source.set;
      if (set.channels !== channels) {
        throw new Error(
          `${source.name} has ${plural(set.channels, 'channel')} but this model takes ${channels}; ` +
            `pick a ${set.channels}-channel model or your own images`,
        );
      }
    } else {
      if (channels !== 1 && channels !== 3) throw new Error(`picked images need a model with 1 or 3 channels, not ${channels}`);
      set = await imageSetFromFiles(source.files, size, channels);
    }
    const data = { images: prepareImages(set, size), count: set.count, shape: [channels, size, size] as const, labels: set.labels };
    this.prepared.set(key, data);
    return data;
  }

  /** What is loaded, e.g. "Fashion-MNIST test: 64 images (28×28, shown at 16×16)", and its first `n` images. */
  async describe(size: number, channels: number, n = 16): Promise<{ description: string; preview: ImageBatch }> {
    const data = await this.prepare(size, channels);
    const source = this.source!;
    const native = source.kind === 'idx' ? `${source.set.width}×${source.set.height}, shown at ${size}×${size}` : `${size}×${size}`;
    const shown = Math.min(n, data.count);
    return {
      description: `${source.name}: ${plural(data.count, 'image')} (${native})`,
      preview: { data: data.images.slice(0, shown * channels * size * size), n: shown, channels, size },
    };
  }

  /** A readable name of image `i` of `data`: its class when labelled ("Sandal", "class 3"), else "image i+1". */
  label(data: PreparedDataset, i: number): string {
    const k = data.labels?.[i];
    if (k === undefined) return `image ${i + 1}`;
    const fashion = this.source?.name.toLowerCase().includes('fashion');
    return (fashion ? FASHION_CLASSES[k] : undefined) ?? `class ${k}`;
  }
}
