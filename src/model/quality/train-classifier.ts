// Training the quality classifier with this engine: cross-entropy, Adam, cosine-decayed learning
// rate. Batches are drawn from (seed, step) alone, so a run repeats exactly. Half of each batch
// goes through a round trip to a lower resolution first (the resolutions our diffusion models
// train at), so the features of a 16x16 model's upsampled samples are not out of distribution.

import {
  backward,
  CapturedRun,
  flush,
  logSoftmax,
  mul,
  mulScalar,
  noGrad,
  Rng,
  scope,
  sum,
  tensor,
  type Tensor,
  zeroGrad,
} from '../../engine/index.ts';
import { gpuBackend } from '../nn/backend.ts';
import type { Execution } from '../replayed-forward.ts';
import { Adam } from '../train/optimizer.ts';
import { ImageClassifier } from './classifier.ts';
import { roundTrip } from './resize.ts';

/** Images in [−1, 1] at the classifier's resolution, [count, C, S, S], with their labels. */
export interface LabelledImages {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface ClassifierTrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Lower resolutions that half of each batch round-trips through. */
  roundTripSizes: number[];
}

export const DEFAULT_CLASSIFIER_TRAINING: ClassifierTrainOptions = {
  steps: 1500,
  batchSize: 64,
  lr: 2e-3,
  seed: 1,
  roundTripSizes: [16],
};

export class ClassifierTrainer {
  readonly model: ImageClassifier;
  readonly adam: Adam;
  step = 0;
  private readonly imageElements: number;

  constructor(
    private readonly data: LabelledImages,
    readonly options: ClassifierTrainOptions = DEFAULT_CLASSIFIER_TRAINING,
    model?: ImageClassifier,
  ) {
    this.model = model ?? new ImageClassifier().build(options.seed);
    const { channels, imageSize, classes } = this.model.config;
    this.imageElements = channels * imageSize * imageSize;
    if (data.images.length !== data.count * this.imageElements) {
      throw new Error(`classifier training: ${data.images.length} values are not ${data.count} images of [${channels},${imageSize},${imageSize}]`);
    }
    if (data.labels.length !== data.count) throw new Error(`classifier training: ${data.count} images but ${data.labels.length} labels`);
    const bad = data.labels.findIndex((l) => l >= classes);
    if (bad >= 0) throw new Error(`classifier training: label ${data.labels[bad]} at ${bad} is not below ${classes} classes`);
    this.adam = new Adam(this.model, { lr: options.lr, weightDecay: 1e-4, decoupledWeightDecay: true });
  }

  /** Cosine decay from lr to lr/20 over the run. */
  lrAt(step: number): number {
    const { lr, steps } = this.options;
    const progress = Math.min(1, step / Math.max(1, steps));
    return lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }

  /** The batch of `step`: indices drawn with replacement from (seed, step). */
  batch(step: number): { images: Float32Array; onehot: Float32Array } {
    const { batchSize, seed, roundTripSizes } = this.options;
    const { classes, imageSize, channels } = this.model.config;
    const rng = new Rng(seed, step * batchSize * 3);
    const images = new Float32Array(batchSize * this.imageElements);
    const onehot = new Float32Array(batchSize * classes);
    for (let b = 0; b < batchSize; b++) {
      const i = rng.int(this.data.count);
      let image = this.data.images.subarray(i * this.imageElements, (i + 1) * this.imageElements);
      const through = rng.int(2 * roundTripSizes.length);
      if (through < roundTripSizes.length) image = roundTrip(image, channels, imageSize, roundTripSizes[through]!);
      images.set(image, b * this.imageElements);
      onehot[b * classes + this.data.labels[i]!] = 1;
    }
    return { images, onehot };
  }

  /** Encodes and submits one step; returns the loss tensor (the caller reads and disposes it). */
  trainStep(): Tensor {
    const { batchSize } = this.options;
    const { channels, imageSize, classes } = this.model.config;
    const { images, onehot } = this.batch(this.step);
    const params = this.model.parameters().map((p) => p.value);
    const loss = scope(() => {
      const x = tensor(images, [batchSize, channels, imageSize, imageSize]);
      const { logits } = this.model.forwardWith(gpuBackend, x);
      const nll = mulScalar(sum(mul(logSoftmax(logits), tensor(onehot, [batchSize, classes]))), -1 / batchSize);
      backward(nll);
      this.adam.update(this.lrAt(this.step));
      zeroGrad(params);
      return nll;
    });
    flush();
    this.step++;
    return loss;
  }

  /** Runs up to step `until` (default: `options.steps`), reading the loss back two steps behind. */
  async train(onStep?: (step: number, loss: number) => void, until = this.options.steps): Promise<void> {
    const pending: Promise<void>[] = [];
    while (this.step < Math.min(until, this.options.steps)) {
      const step = this.step;
      const loss = this.trainStep();
      pending.push(
        loss.read().then(([v]) => {
          if (!Number.isFinite(v!)) throw new Error(`classifier training: the loss became ${v} at step ${step}`);
          onStep?.(step, v!);
        }),
      );
      loss.dispose();
      if (pending.length > 2) await pending.shift();
    }
    await Promise.all(pending);
  }
}

/** Features [count, featureDim] and class probabilities [count, classes] of images [count, C, S, S]. */
export async function classify(
  model: ImageClassifier,
  images: Float32Array,
  count: number,
  batchSize = 256,
  execution: Execution = 'replay',
): Promise<{ features: Float32Array; probs: Float32Array }> {
  const { channels, imageSize, classes, featureDim } = model.config;
  const per = channels * imageSize * imageSize;
  if (images.length !== count * per) throw new Error(`classify: ${images.length} values are not ${count} images of [${channels},${imageSize},${imageSize}]`);
  const features = new Float32Array(count * featureDim);
  const probs = new Float32Array(count * classes);
  model.eval();
  const run = (x: Tensor): Tensor[] => {
    const out = model.forwardWith(gpuBackend, x);
    return [out.features, logSoftmax(out.logits)];
  };
  // Every batch runs the same network: captured at the first, replayed after (a smaller last batch recaptured).
  let captured: CapturedRun | null = null;
  const frozen = model.parameters().map((p) => p.value);
  try {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const [f, p] = noGrad(() =>
        scope(() => {
          const x = tensor(images.subarray(start * per, (start + n) * per), [n, channels, imageSize, imageSize]);
          if (execution === 'eager') return run(x);
          if (captured?.fits([x])) return captured.replayMany([x]);
          captured?.dispose();
          const capture = CapturedRun.captureMany([x], run, { frozen });
          captured = capture.run;
          return capture.results;
        }),
      ) as [Tensor, Tensor];
      const [fv, lp] = await Promise.all([f.read(), p.read()]);
      f.dispose();
      p.dispose();
      features.set(fv, start * featureDim);
      for (let i = 0; i < lp.length; i++) probs[start * classes + i] = Math.exp(lp[i]!);
    }
  } finally {
    (captured as CapturedRun | null)?.dispose();
  }
  return { features, probs };
}

/** Share of images whose most probable class is their label. */
export function accuracy(probs: Float32Array, labels: Uint8Array, classes: number): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + best]!) best = c;
    if (best === labels[i]) right++;
  }
  return right / labels.length;
}
