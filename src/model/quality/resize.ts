// The one resize between a diffusion model's resolution and the quality classifier's: samples
// go up to the classifier's size, and real reference images take the same path (down to the
// model's size as in training, then up), so both sides of the distance see the same blur.

import { planeResizer } from '../data/loader.ts';

/** Images [count, C, from, from] resized plane by plane to [count, C, to, to] (area resampling). */
export function resizeImages(images: Float32Array, count: number, channels: number, from: number, to: number): Float32Array {
  if (images.length !== count * channels * from * from) {
    throw new Error(`resizeImages: ${images.length} values are not ${count} images of [${channels},${from},${from}]`);
  }
  if (from === to) return images.slice();
  const out = new Float32Array(count * channels * to * to);
  const resize = planeResizer(from, from, to, to);
  for (let p = 0; p < count * channels; p++) resize(images.subarray(p * from * from, (p + 1) * from * from), out, p * to * to);
  return out;
}

/** One image [C, size, size] down to `via` and back up to `size`. */
export function roundTrip(image: Float32Array, channels: number, size: number, via: number): Float32Array {
  return resizeImages(resizeImages(image, 1, channels, size, via), 1, channels, via, size);
}
