// Where the shipped quality classifier lives, and the real images the metric compares against.

import { join } from 'node:path';
import type { DatasetSpec } from '../app/index.ts';
import { REPO_ROOT } from './browser.ts';
import { datasetSpec } from './datasets.ts';

/** The classifier trained by `ddpm classifier train`, shipped in the repository. */
export const DEFAULT_CLASSIFIER_PATH = join(REPO_ROOT, 'models', 'fashion-mnist-classifier.safetensors');

/** Reference images for the metric: `reference` training images and the test split (the floor). */
export function qualityData(reference: number): { train: DatasetSpec; test: DatasetSpec } {
  return { train: datasetSpec('fashion-mnist', 'train', reference), test: datasetSpec('fashion-mnist', 'test') };
}
