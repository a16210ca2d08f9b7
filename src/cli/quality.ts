// Sample quality on the command line: where the shipped classifier lives, the real images the
// metric compares against, and how a report is printed.

import { join } from 'node:path';
import { CLASSIFIER_FILE, type DatasetSpec, type QualityResult } from '../app/index.ts';
import { REPO_ROOT } from './repo-root.ts';
import { datasetSpec } from './datasets.ts';

/** The classifier trained by `ddpm classifier train`, shipped in the repository. */
export const DEFAULT_CLASSIFIER_PATH = join(REPO_ROOT, CLASSIFIER_FILE);

/** Reference images for the metric: `reference` training images and the test split (the floor). */
export function qualityData(reference: number): { train: DatasetSpec; test: DatasetSpec } {
  return { train: datasetSpec('fashion-mnist', 'train', reference), test: datasetSpec('fashion-mnist', 'test') };
}

/** The quality report as `ddpm eval --quality` and `ddpm train` print it. */
export function formatQuality(r: QualityResult): string {
  const classes = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'];
  const histogram = r.classHistogram.map((c, i) => `${classes[i] ?? `class ${i}`} ${c}`).join(', ');
  return [
    `FD samples       ${r.fdSamples.toFixed(3)}  (${r.n} samples, ${r.imagesPerSecond.toFixed(2)} images/s)`,
    `FD real (floor)  ${r.fdReal.toFixed(3)}  (${r.n} test images)`,
    `FD noise (ceil.) ${r.fdNoise.toFixed(3)}  (${r.n} noise images)`,
    `normalised FD    ${r.normalised.toFixed(4)}  (0 = as real data, 1 = as noise)`,
    `classes          ${histogram}`,
    `confident        ${(100 * r.confidentShare).toFixed(1)}% of samples (top class p ≥ 0.9)`,
  ].join('\n');
}
