// A small image classifier whose penultimate layer is the feature space of our Fréchet distance
// (Inception weights cannot be downloaded here, so the engine trains its own feature network).
// 28x28 inputs in [-1, 1] (the diffusion models' scaling); 64 features; 10 classes.

import type { Backend } from '../nn/backend.ts';
import { Conv2d, GroupNorm, Linear } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';

export interface ClassifierConfig {
  imageSize: number;
  channels: number;
  classes: number;
  /** Conv widths at 28, 14, 7 and 4 pixels. */
  widths: [number, number, number, number];
  featureDim: number;
  groups: number;
}

export const DEFAULT_CLASSIFIER: ClassifierConfig = {
  imageSize: 28,
  channels: 1,
  classes: 10,
  widths: [16, 32, 64, 64],
  featureDim: 64,
  groups: 8,
};

/** The size after a 3x3, stride-2, padding-1 convolution. */
const halved = (n: number): number => Math.floor((n - 1) / 2) + 1;

export class ImageClassifier extends Module {
  readonly conv_in: Conv2d;
  readonly norm_in: GroupNorm;
  readonly downs: { conv: Conv2d; norm: GroupNorm }[] = [];
  readonly features: Linear;
  readonly head: Linear;
  /** Spatial size after the three stride-2 convolutions. */
  readonly finalSize: number;

  constructor(readonly config: ClassifierConfig = DEFAULT_CLASSIFIER) {
    super();
    const [w0, w1, w2, w3] = config.widths;
    const { groups } = config;
    this.conv_in = this.child('conv_in', new Conv2d(config.channels, w0, 3, 1, 1));
    this.norm_in = this.child('norm_in', new GroupNorm(Math.min(groups, w0), w0, 1e-5));
    const pairs: [number, number][] = [
      [w0, w1],
      [w1, w2],
      [w2, w3],
    ];
    let size = config.imageSize;
    pairs.forEach(([cin, cout], i) => {
      this.downs.push({
        conv: this.child(`down.${i}.conv`, new Conv2d(cin, cout, 3, 2, 1)),
        norm: this.child(`down.${i}.norm`, new GroupNorm(Math.min(groups, cout), cout, 1e-5)),
      });
      size = halved(size);
    });
    this.finalSize = size;
    this.features = this.child('features', new Linear(w3 * size * size, config.featureDim));
    this.head = this.child('head', new Linear(config.featureDim, config.classes));
  }

  /** Features [B, featureDim] (after SiLU) and class logits [B, classes] of images [B, C, H, W]. */
  forwardWith<T>(ops: Backend<T>, x: T): { features: T; logits: T } {
    const shape = ops.shape(x);
    const { channels, imageSize } = this.config;
    if (shape.length !== 4 || shape[1] !== channels || shape[2] !== imageSize || shape[3] !== imageSize) {
      throw new Error(`ImageClassifier: expects images [B, ${channels}, ${imageSize}, ${imageSize}], got [${shape.join(', ')}]`);
    }
    let h = this.norm_in.forward(ops, this.conv_in.forward(ops, x), true);
    for (const { conv, norm } of this.downs) h = norm.forward(ops, conv.forward(ops, h), true);
    const flat = ops.reshape(h, [shape[0]!, this.config.widths[3] * this.finalSize * this.finalSize]);
    const features = ops.silu(this.features.forward(ops, flat));
    return { features, logits: this.head.forward(ops, features) };
  }
}
