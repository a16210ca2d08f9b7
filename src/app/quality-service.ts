// Sample quality for the front ends: training the quality classifier, loading a shipped one,
// and measuring a model's samples (the normalised Fréchet distance, class histogram and share of
// confident predictions) against real images at the model's resolution.

import { DEFAULT_CLASSIFIER } from '../model/quality/classifier.ts';
import { type ClassifierInfo, loadClassifier, saveClassifier } from '../model/quality/classifier-file.ts';
import { QualityMeter, type QualityReport } from '../model/quality/quality.ts';
import {
  accuracy,
  ClassifierTrainer,
  classify,
  DEFAULT_CLASSIFIER_TRAINING,
  type ClassifierTrainOptions,
} from '../model/quality/train-classifier.ts';
import type { ImageClassifier } from '../model/quality/classifier.ts';
import { resizeImages } from '../model/quality/resize.ts';
import { DatasetCache, type DatasetRequest, type PreparedDataset } from './dataset-cache.ts';
import { sampleImages, type SampleRequest } from './sampling.ts';
import type { TrainingSession } from './training-session.ts';

export type { ClassifierInfo, ClassifierTrainOptions, QualityReport };

/** Real images for the metric: the reference statistics (train) and the floor (test). */
export interface QualityData {
  train: DatasetRequest;
  test: DatasetRequest;
}

export interface QualityResult extends QualityReport {
  /** Seconds spent sampling, and images per second. */
  sampleSeconds: number;
  imagesPerSecond: number;
}

async function loadPrepared(request: DatasetRequest, size: number, channels: number): Promise<PreparedDataset> {
  const cache = new DatasetCache();
  await cache.load(request);
  return cache.prepare(size, channels);
}

export class QualityService {
  private classifier: { model: ImageClassifier; info: ClassifierInfo } | null = null;
  private readonly meters = new Map<string, QualityMeter>();
  private training: { trainer: ClassifierTrainer; test: PreparedDataset; started: number } | null = null;

  constructor(private readonly session: TrainingSession) {}

  get classifierInfo(): ClassifierInfo | null {
    return this.classifier?.info ?? null;
  }

  /** Uses the classifier in `bytes` (a file written by `finishClassifierTraining`). */
  useClassifier(bytes: Uint8Array): Promise<ClassifierInfo> {
    return this.session.runGpuJob(async () => {
      const loaded = loadClassifier(bytes);
      this.dropClassifier();
      this.classifier = loaded;
      return loaded.info;
    });
  }

  private dropClassifier(): void {
    this.classifier?.model.dispose();
    this.classifier = null;
    this.meters.clear();
  }

  /** A fresh classifier trainer on labelled `data` (its test split measures the result). */
  async startClassifierTraining(data: QualityData, options: Partial<ClassifierTrainOptions> = {}): Promise<{ images: number; parameters: number }> {
    const { imageSize, channels } = DEFAULT_CLASSIFIER;
    const [train, test] = await Promise.all([loadPrepared(data.train, imageSize, channels), loadPrepared(data.test, imageSize, channels)]);
    if (!train.labels || !test.labels) throw new Error('classifier training needs labelled images (an MNIST-format folder with its labels files)');
    return this.session.runGpuJob(async () => {
      this.training?.trainer.model.dispose();
      const trainer = new ClassifierTrainer(
        { images: train.images, labels: train.labels!, count: train.count },
        { ...DEFAULT_CLASSIFIER_TRAINING, ...options },
      );
      this.training = { trainer, test, started: performance.now() };
      return { images: train.count, parameters: trainer.model.parameterCount() };
    });
  }

  /** Up to `steps` more steps (never past the configured total); returns each step's loss. */
  trainClassifier(steps: number): Promise<{ step: number; loss: number }[]> {
    const t = this.requireTraining();
    return this.session.runGpuJob(async () => {
      const losses: { step: number; loss: number }[] = [];
      const until = Math.min(t.trainer.options.steps, t.trainer.step + steps);
      await t.trainer.train((step, loss) => losses.push({ step, loss }), until);
      return losses;
    });
  }

  /** Measures the trained classifier on the test split, makes it the session's, and returns its file. */
  async finishClassifierTraining(): Promise<{ bytes: Uint8Array; info: ClassifierInfo }> {
    const t = this.requireTraining();
    return this.session.runGpuJob(async () => {
      const { trainer, test } = t;
      const { imageSize, channels, classes } = trainer.model.config;
      const labels = test.labels!;
      const { probs } = await classify(trainer.model, test.images, test.count);
      const roundTrip: Record<string, number> = {};
      for (const via of trainer.options.roundTripSizes) {
        const blurred = resizeImages(resizeImages(test.images, test.count, channels, imageSize, via), test.count, channels, via, imageSize);
        roundTrip[String(via)] = accuracy((await classify(trainer.model, blurred, test.count)).probs, labels, classes);
      }
      const info: ClassifierInfo = {
        dataset: 'fashion-mnist',
        testAccuracy: accuracy(probs, labels, classes),
        testAccuracyRoundTrip: roundTrip,
        trainSteps: trainer.step,
        batchSize: trainer.options.batchSize,
        testImages: test.count,
      };
      const bytes = await saveClassifier(trainer.model, info);
      this.dropClassifier();
      this.classifier = { model: trainer.model.eval(), info };
      this.training = null;
      return { bytes, info };
    });
  }

  private requireTraining(): { trainer: ClassifierTrainer; test: PreparedDataset; started: number } {
    if (!this.training) throw new Error('no classifier training: call startClassifierTraining() first');
    return this.training;
  }

  /** The meter for a model shape (reference statistics from `data.train`, made once). */
  private async meterFor(size: number, channels: number, data: QualityData): Promise<QualityMeter> {
    const key = `${size}x${channels}`;
    const cached = this.meters.get(key);
    if (cached) return cached;
    const classifier = this.classifier;
    if (!classifier) throw new Error('no quality classifier loaded: load one (useClassifier) or train one first');
    const [train, test] = await Promise.all([loadPrepared(data.train, size, channels), loadPrepared(data.test, size, channels)]);
    const meter = await this.session.runGpuJob(() =>
      QualityMeter.create(classifier.model, size, channels, { images: train.images, count: train.count }, { images: test.images, count: test.count }),
    );
    this.meters.set(key, meter);
    return meter;
  }

  /** Samples `request.n` images from the trainer (or checkpoint bytes `from`) and measures them. */
  async measure(request: SampleRequest, data: QualityData, from?: Uint8Array): Promise<QualityResult> {
    const source = this.session.inferenceModel(request.weights ?? 'ema', from);
    const { model } = source.config;
    const meter = await this.meterFor(model.imageSize, model.inChannels, data);
    const sampled = await source.run((m) => sampleImages(m, request));
    const report = await this.session.runGpuJob(() => meter.measure({ images: sampled.images.data, count: sampled.images.n }));
    return { ...report, sampleSeconds: sampled.seconds, imagesPerSecond: sampled.images.n / sampled.seconds };
  }
}
