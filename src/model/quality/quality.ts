// Sample quality as a number: the Fréchet distance, in the quality classifier's feature space,
// between generated images and real training images, placed between two anchors computed the
// same way at the same count: real test images (the floor, FD_real) and noise (the ceiling,
// FD_noise). normalised = (FD_samples − FD_real) / (FD_noise − FD_real): 0 is as good as real
// data, 1 is as bad as noise.

import { deriveSeed, Rng } from '../../engine/index.ts';
import type { ImageClassifier } from './classifier.ts';
import { featureStats, type FeatureStats, frechetDistance, normalisedFrechet } from './frechet.ts';
import { resizeImages } from './resize.ts';
import { classify } from './train-classifier.ts';

/** A prediction this probable or more counts as confident. */
export const CONFIDENT_PROBABILITY = 0.9;

export interface QualityReport {
  n: number;
  fdSamples: number;
  fdReal: number;
  fdNoise: number;
  normalised: number;
  /** How many samples the classifier assigns to each class. */
  classHistogram: number[];
  /** Share of samples whose top class has probability ≥ CONFIDENT_PROBABILITY. */
  confidentShare: number;
}

/** Images [count, C, size, size] in [−1, 1] at the diffusion model's resolution. */
export interface ModelSizedImages {
  images: Float32Array;
  count: number;
}

interface Measured {
  stats: FeatureStats;
  classHistogram: number[];
  confidentShare: number;
}

/** Feature statistics, class histogram and confident share of images at the model's resolution. */
async function measureImages(classifier: ImageClassifier, modelSize: number, channels: number, set: ModelSizedImages): Promise<Measured> {
  const { imageSize, featureDim, classes } = classifier.config;
  const upsized = resizeImages(set.images, set.count, channels, modelSize, imageSize);
  const { features, probs } = await classify(classifier, upsized, set.count);
  const classHistogram = new Array<number>(classes).fill(0);
  let confident = 0;
  for (let i = 0; i < set.count; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + best]!) best = c;
    classHistogram[best]!++;
    if (probs[i * classes + best]! >= CONFIDENT_PROBABILITY) confident++;
  }
  return { stats: featureStats(features, set.count, featureDim), classHistogram, confidentShare: confident / set.count };
}

export class QualityMeter {
  private readonly anchors = new Map<number, { fdReal: number; fdNoise: number }>();

  private constructor(
    private readonly classifier: ImageClassifier,
    readonly modelSize: number,
    readonly channels: number,
    private readonly reference: FeatureStats,
    private readonly realTest: ModelSizedImages,
    private readonly seed: number,
  ) {}

  /**
   * `train` images give the reference statistics (all of them are used), `test` images the
   * floor; both at the diffusion model's resolution, as it trains on them.
   */
  static async create(
    classifier: ImageClassifier,
    modelSize: number,
    channels: number,
    train: ModelSizedImages,
    test: ModelSizedImages,
    seed = 0,
  ): Promise<QualityMeter> {
    if (channels !== classifier.config.channels) {
      throw new Error(`quality: the classifier takes ${classifier.config.channels} channel(s), the model makes ${channels}`);
    }
    const reference = (await measureImages(classifier, modelSize, channels, train)).stats;
    return new QualityMeter(classifier, modelSize, channels, reference, test, seed);
  }

  private measureImages(set: ModelSizedImages): Promise<Measured> {
    return measureImages(this.classifier, this.modelSize, this.channels, set);
  }

  /** Gaussian noise clamped to [−1, 1], at the model's resolution. */
  noiseImages(count: number): ModelSizedImages {
    const rng = new Rng(deriveSeed(this.seed, 'quality-noise'));
    const images = new Float32Array(count * this.channels * this.modelSize * this.modelSize);
    for (let i = 0; i < images.length; i++) images[i] = Math.max(-1, Math.min(1, rng.normal()));
    return { images, count };
  }

  /** FD of `n` real test images (the floor) and of `n` noise images (the ceiling). */
  async anchorsFor(n: number): Promise<{ fdReal: number; fdNoise: number }> {
    let a = this.anchors.get(n);
    if (!a) {
      if (n > this.realTest.count) throw new Error(`quality: asked for ${n} images but only ${this.realTest.count} real test images are loaded`);
      const per = this.channels * this.modelSize * this.modelSize;
      const real = await this.measureImages({ images: this.realTest.images.subarray(0, n * per), count: n });
      const noise = await this.measureImages(this.noiseImages(n));
      a = { fdReal: frechetDistance(real.stats, this.reference), fdNoise: frechetDistance(noise.stats, this.reference) };
      this.anchors.set(n, a);
    }
    return a;
  }

  /** The report for generated images at the model's resolution. */
  async measure(samples: ModelSizedImages): Promise<QualityReport> {
    const { fdReal, fdNoise } = await this.anchorsFor(samples.count);
    const m = await this.measureImages(samples);
    const fdSamples = frechetDistance(m.stats, this.reference);
    return {
      n: samples.count,
      fdSamples,
      fdReal,
      fdNoise,
      normalised: normalisedFrechet(fdSamples, fdReal, fdNoise),
      classHistogram: m.classHistogram,
      confidentShare: m.confidentShare,
    };
  }
}
