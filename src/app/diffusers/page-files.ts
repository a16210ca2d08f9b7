// A diffusers folder as a page receives it: files from a directory picker or a drop (paths
// relative to the picked folder, or bare names where the browser gives none), or a folder served
// at a URL, which a page cannot list and so reads by diffusers' own file names.

import { DIFFUSERS_FILES, DiffusersError, mapSource, type FileSource } from './files.ts';

/** A file as a page has it: its name, the path under the picked folder if known, its bytes. */
export interface PickedFile {
  name: string;
  /** `webkitRelativePath`: 'picked-folder/unet/config.json', or '' for a plain multi-file pick. */
  relativePath: string;
  bytes: Uint8Array;
}

/** Where each of diffusers' file names lives in a pipeline folder. */
const PIPELINE_PLACES: Record<string, string> = {
  [DIFFUSERS_FILES.modelIndex]: DIFFUSERS_FILES.modelIndex,
  [DIFFUSERS_FILES.config]: `unet/${DIFFUSERS_FILES.config}`,
  [DIFFUSERS_FILES.weights]: `unet/${DIFFUSERS_FILES.weights}`,
  [DIFFUSERS_FILES.pickle]: `unet/${DIFFUSERS_FILES.pickle}`,
  [DIFFUSERS_FILES.scheduler]: `scheduler/${DIFFUSERS_FILES.scheduler}`,
};

/**
 * The picked files as a folder. With relative paths, the picked folder's own name is dropped;
 * without (several files picked or dropped at once), a model_index.json among them makes the
 * others a pipeline's (unet/…, scheduler/…), else they are a bare UNet2DModel folder.
 */
export function folderFromPickedFiles(files: readonly PickedFile[]): FileSource {
  if (files.length === 0) throw new DiffusersError('no files were given: pick a diffusers folder (model_index.json, unet/, scheduler/) or a UNet2DModel folder (config.json and its weights)');
  const withPaths = files.every((f) => f.relativePath.includes('/'));
  const map = new Map<string, Uint8Array>();
  const pipeline = files.some((f) => f.name === DIFFUSERS_FILES.modelIndex);
  for (const f of files) {
    const path = withPaths ? f.relativePath.slice(f.relativePath.indexOf('/') + 1) : pipeline ? (PIPELINE_PLACES[f.name] ?? f.name) : f.name;
    if (map.has(path)) throw new DiffusersError(`two files are both ${path}: pick one model's folder`);
    map.set(path, f.bytes);
  }
  return mapSource(map);
}

async function fetchOptional(url: string): Promise<Uint8Array | null> {
  const response = await fetch(url);
  if (response.status === 404) return null;
  if (!response.ok) throw new DiffusersError(`${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The diffusers folder served at `base` (a pipeline if it has model_index.json, else a
 * UNet2DModel folder). Only diffusers' file names are fetched; the pickle's name is probed
 * (never read) so the importer can say how to convert it.
 */
export async function fetchDiffusersFolder(base: string): Promise<FileSource> {
  const root = base.endsWith('/') ? base : `${base}/`;
  const index = await fetchOptional(root + DIFFUSERS_FILES.modelIndex);
  const dir = index ? 'unet/' : '';
  const wanted = index
    ? [`${dir}${DIFFUSERS_FILES.config}`, `${dir}${DIFFUSERS_FILES.weights}`, `scheduler/${DIFFUSERS_FILES.scheduler}`]
    : [DIFFUSERS_FILES.config, DIFFUSERS_FILES.weights];
  const map = new Map<string, Uint8Array>();
  if (index) map.set(DIFFUSERS_FILES.modelIndex, index);
  for (const path of wanted) {
    const bytes = await fetchOptional(root + path);
    if (bytes) map.set(path, bytes);
    else if (path.endsWith(DIFFUSERS_FILES.weights)) {
      const pickle = `${dir}${DIFFUSERS_FILES.pickle}`;
      const head = await fetch(root + pickle, { method: 'HEAD' });
      if (head.ok) map.set(pickle, new Uint8Array(0));
    }
  }
  if (map.size === 0) throw new DiffusersError(`${root} has neither ${DIFFUSERS_FILES.modelIndex} nor ${DIFFUSERS_FILES.config}: is it a diffusers folder?`);
  return mapSource(map);
}
