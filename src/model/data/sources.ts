// Where images come from: gzipped IDX files fetched by URL (Fashion-MNIST, MNIST) and image
// files a user picks (PNG/JPEG/…), decoded and resized by the browser.

import { DatasetError, imageSetFromIdx, parseIdx, type ImageSet } from './idx.ts';

async function fetchBytes(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DatasetError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new DatasetError(`cannot fetch ${url}: HTTP ${response.status}`);
  const raw = new Uint8Array(await response.arrayBuffer());
  if ((response.headers.get('content-type') ?? '').includes('text/html')) {
    throw new DatasetError(`${url} returned an HTML page, not a data file: is the URL right?`);
  }
  // Servers may already have undone the gzip (Content-Encoding): look at the magic bytes.
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DatasetError(`${url}: not a valid gzip file (${(e as Error).message})`);
  }
}

export type IdxDatasetName = 'fashion-mnist' | 'mnist';
export type Split = 'train' | 'test';

/** The file names shared by MNIST and Fashion-MNIST. */
export function idxFileNames(split: Split): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte.gz`, labels: `${prefix}-labels-idx1-ubyte.gz` };
}

/** Loads an MNIST-format split from `baseUrl` (a folder holding the four .gz files). */
export async function loadIdxDataset(baseUrl: string, split: Split, name: string): Promise<ImageSet> {
  const files = idxFileNames(split);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const [images, labels] = await Promise.all([fetchBytes(base + files.images), fetchBytes(base + files.labels)]);
  return imageSetFromIdx(
    parseIdx(images, `${name} ${files.images}`, 3),
    parseIdx(labels, `${name} ${files.labels}`, 1),
    `${name} ${split}`,
  );
}

/**
 * Decodes user-picked image files and resizes them (browser scaling, then center crop to a
 * square) to size×size with 1 (grayscale) or 3 channels, as bytes [count, C, size, size].
 */
export async function imageSetFromFiles(files: readonly Blob[], size: number, channels: 1 | 3): Promise<ImageSet> {
  if (files.length === 0) throw new DatasetError('no image files were given');
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const images = new Uint8Array(files.length * channels * size * size);
  for (let n = 0; n < files.length; n++) {
    const file = files[n]!;
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      throw new DatasetError(`${(file as File).name ?? `file ${n}`}: not a readable image`);
    }
    const side = Math.min(bitmap.width, bitmap.height);
    ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, size, size).data;
    for (let i = 0; i < size * size; i++) {
      const [r, g, b] = [rgba[4 * i]!, rgba[4 * i + 1]!, rgba[4 * i + 2]!];
      if (channels === 1) images[n * size * size + i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      else for (let c = 0; c < 3; c++) images[(n * 3 + c) * size * size + i] = [r, g, b][c]!;
    }
  }
  return { images, labels: null, count: files.length, height: size, width: size, channels };
}
