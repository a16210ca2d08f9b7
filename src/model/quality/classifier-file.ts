// The quality classifier as a safetensors file: weights plus its config, training settings and
// measured test accuracy in the header, so a reader knows what the feature space is worth.

import { readSafetensors, writeSafetensors } from '../../engine/index.ts';
import { type ClassifierConfig, ImageClassifier } from './classifier.ts';

export const CLASSIFIER_FORMAT = 'ddpm-webgpu/quality-classifier/1';

export interface ClassifierInfo {
  dataset: string;
  /** Share of the test split classified correctly at 28x28. */
  testAccuracy: number;
  /** The same after a round trip through the diffusion model's resolution. */
  testAccuracyRoundTrip: Record<string, number>;
  trainSteps: number;
  batchSize: number;
  testImages: number;
}

export async function saveClassifier(model: ImageClassifier, info: ClassifierInfo): Promise<Uint8Array> {
  const tensors = await model.stateDict();
  return writeSafetensors(tensors, {
    format: CLASSIFIER_FORMAT,
    config: JSON.stringify(model.config),
    info: JSON.stringify(info),
  });
}

function parseClassifierFile(bytes: Uint8Array, what: string) {
  const file = readSafetensors(bytes);
  if (file.metadata.format !== CLASSIFIER_FORMAT) {
    throw new Error(`${what}: not a quality classifier (format '${file.metadata.format ?? 'none'}', expected '${CLASSIFIER_FORMAT}')`);
  }
  const config = JSON.parse(file.metadata.config ?? 'null') as ClassifierConfig | null;
  const info = JSON.parse(file.metadata.info ?? 'null') as ClassifierInfo | null;
  if (!config || !info) throw new Error(`${what}: the header lacks its config or info`);
  return { file, config, info };
}

/** What a classifier file says about itself (no GPU needed). */
export function loadClassifierInfo(bytes: Uint8Array, what = 'classifier file'): ClassifierInfo {
  return parseClassifierFile(bytes, what).info;
}

/** A built classifier with the file's weights, and what the file says about it. */
export function loadClassifier(bytes: Uint8Array, what = 'classifier file'): { model: ImageClassifier; info: ClassifierInfo } {
  const { file, config, info } = parseClassifierFile(bytes, what);
  const model = new ImageClassifier(config).build(0);
  const values = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
  for (const [name, t] of file.tensors) values.set(name, { shape: t.shape, data: t.data as ArrayLike<number> });
  model.loadStateDict(values);
  return { model: model.eval(), info };
}
