// Dataset names on the command line → what the page loads: Debian's IDX files (served by the
// dev server under /@fs/) or a folder of image files sent as bytes.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { DatasetSpec, Split } from '../app/index.ts';
import { idxFileNames } from '../model/data/sources.ts';
import { UsageError } from './command.ts';

/** Where Debian packages put the MNIST-format datasets. */
export const IDX_DATASETS: Record<string, { dir: string; package: string }> = {
  'fashion-mnist': { dir: '/usr/share/datasets/fashion-mnist', package: 'dataset-fashion-mnist' },
  mnist: { dir: '/usr/share/datasets/mnist', package: 'a Debian package providing MNIST (none in bookworm); or use a folder of images' },
};

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp']);
const MAX_FOLDER_IMAGES = 20000;

export function datasetSpec(name: string, split: Split, limit?: number): DatasetSpec {
  const known = IDX_DATASETS[name];
  if (known) {
    const files = idxFileNames(split);
    for (const f of [files.images, files.labels]) {
      if (!existsSync(join(known.dir, f))) {
        throw new Error(`dataset '${name}': ${join(known.dir, f)} is missing; install ${known.package} (bash scripts/setup.sh does)`);
      }
    }
    return { kind: 'idx', url: `/@fs${known.dir}/`, split, name, ...(limit ? { limit } : {}) };
  }
  const dir = resolve(name);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`--dataset must be ${Object.keys(IDX_DATASETS).join(' or ')}, or a folder of images; '${name}' is neither`);
  }
  const names = readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (names.length === 0) throw new Error(`dataset folder '${dir}' has no image files (${[...IMAGE_EXTENSIONS].join(' ')})`);
  const picked = names.slice(0, Math.min(limit ?? MAX_FOLDER_IMAGES, MAX_FOLDER_IMAGES));
  return { kind: 'files', files: picked.map((f) => ({ name: f, base64: readFileSync(join(dir, f)).toString('base64') })) };
}
