// From byte images to training batches: resizing, scaling to [−1, 1], optional horizontal
// flips, and a seeded shuffling loader whose position can be saved and restored.

import { deriveSeed, Rng } from '../../engine/index.ts';
import { DatasetError, type ImageSet } from './idx.ts';

/** Per output position along one axis: its first input index and the weights of its footprint. */
function areaWeights(n: number, outN: number): { start: number; w: number[] }[] {
  return Array.from({ length: outN }, (_, o) => {
    const a = (o * n) / outN;
    const b = ((o + 1) * n) / outN;
    const start = Math.floor(a);
    const ws: number[] = [];
    for (let i = start; i < Math.ceil(b); i++) ws.push((Math.min(b, i + 1) - Math.max(a, i)) / (b - a));
    return { start, w: ws };
  });
}

/**
 * Area resampling of h×w channel planes to outH×outW: each output pixel averages the input over
 * its footprint (exact for integer factors, anti-aliased otherwise). The weights are worked out
 * once; the returned function resamples `src` into `out` at `outOffset` (a dataset's 60,000
 * planes share them).
 */
export function planeResizer(h: number, w: number, outH: number, outW: number): (src: ArrayLike<number>, out: Float32Array, outOffset: number) => void {
  if (h === outH && w === outW) {
    return (src, out, outOffset) => {
      for (let i = 0; i < h * w; i++) out[outOffset + i] = src[i]!;
    };
  }
  const wy = areaWeights(h, outH);
  const wx = areaWeights(w, outW);
  const rows = new Float32Array(h * outW);
  return (src, out, outOffset) => {
    for (let y = 0; y < h; y++) {
      for (let ox = 0; ox < outW; ox++) {
        const { start, w: ws } = wx[ox]!;
        let s = 0;
        for (let i = 0; i < ws.length; i++) s += ws[i]! * src[y * w + Math.min(w - 1, start + i)]!;
        rows[y * outW + ox] = s;
      }
    }
    for (let oy = 0; oy < outH; oy++) {
      const { start, w: ws } = wy[oy]!;
      for (let ox = 0; ox < outW; ox++) {
        let s = 0;
        for (let i = 0; i < ws.length; i++) s += ws[i]! * rows[Math.min(h - 1, start + i) * outW + ox]!;
        out[outOffset + oy * outW + ox] = s;
      }
    }
  };
}

/** One plane resampled (planeResizer, for a single use). */
export function resizePlane(src: Float32Array, h: number, w: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(outH * outW);
  planeResizer(h, w, outH, outW)(src, out, 0);
  return out;
}

/** Images resized to size×size and scaled from [0, 255] to [−1, 1], as [count, C, size, size]. */
export function prepareImages(set: ImageSet, size: number): Float32Array {
  const { count, height, width, channels } = set;
  if (!Number.isInteger(size) || size < 1) throw new DatasetError(`image size must be a positive integer, got ${size}`);
  const plane = size * size;
  const out = new Float32Array(count * channels * plane);
  const src = new Float32Array(height * width);
  const resize = planeResizer(height, width, size, size);
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < channels; c++) {
      const base = (n * channels + c) * height * width;
      for (let i = 0; i < src.length; i++) src[i] = set.images[base + i]! / 127.5 - 1;
      resize(src, out, (n * channels + c) * plane);
    }
  }
  return out;
}

export interface LoaderState {
  seed: number;
  epoch: number;
  position: number;
}

export interface LoaderOptions {
  batchSize: number;
  seed: number;
  horizontalFlip?: boolean;
}

/** Shuffled batches over prepared images; the order depends only on (seed, epoch). */
export class BatchLoader {
  private order: Uint32Array;
  private state: LoaderState;
  readonly imageElements: number;

  constructor(
    private readonly images: Float32Array,
    readonly count: number,
    readonly shape: readonly [number, number, number],
    private readonly options: LoaderOptions,
  ) {
    this.imageElements = shape[0] * shape[1] * shape[2];
    if (images.length !== count * this.imageElements) {
      throw new DatasetError(`loader: ${images.length} values do not hold ${count} images of [${shape}]`);
    }
    if (count === 0) throw new DatasetError('loader: the dataset is empty');
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new DatasetError(`loader: batch size must be a positive integer, got ${options.batchSize}`);
    }
    this.state = { seed: options.seed, epoch: 0, position: 0 };
    this.order = this.permutation(0);
  }

  private permutation(epoch: number): Uint32Array {
    const rng = new Rng(deriveSeed(this.state.seed, 'shuffle', epoch));
    const p = new Uint32Array(this.count);
    for (let i = 0; i < this.count; i++) p[i] = i;
    for (let i = this.count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  /** The next batch [B, C, H, W]; epochs roll over and reshuffle. */
  next(): Float32Array {
    const { batchSize, horizontalFlip } = this.options;
    const [C, H, W] = this.shape;
    const out = new Float32Array(batchSize * this.imageElements);
    const flipRng = new Rng(deriveSeed(this.state.seed, 'flip'), this.state.epoch * this.count * 4 + this.state.position);
    for (let b = 0; b < batchSize; b++) {
      if (this.state.position >= this.count) {
        this.state.epoch++;
        this.state.position = 0;
        this.order = this.permutation(this.state.epoch);
      }
      const src = this.order[this.state.position++]! * this.imageElements;
      const flip = horizontalFlip && flipRng.uniform() < 0.5;
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          const row = src + (c * H + y) * W;
          const dst = b * this.imageElements + (c * H + y) * W;
          for (let x = 0; x < W; x++) out[dst + x] = this.images[row + (flip ? W - 1 - x : x)]!;
        }
      }
    }
    return out;
  }

  getState(): LoaderState {
    return { ...this.state };
  }

  setState(s: LoaderState): void {
    this.state = { ...s };
    this.order = this.permutation(s.epoch);
  }
}
