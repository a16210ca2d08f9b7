// Images in [−1, 1] as an RGBA grid: for a canvas in the page, or a PNG file from the CLI.

import { encode } from 'fast-png';

/** RGBA pixels of `n` images [n, C, S, S] (C = 1 or 3) tiled in a near-square grid, each scaled by `zoom`. */
export function imagesToRgbaGrid(
  images: Float32Array,
  n: number,
  channels: number,
  size: number,
  zoom = 1,
  gap = 1,
): { width: number; height: number; pixels: Uint8ClampedArray } {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const cell = size * zoom + gap;
  const width = cols * cell + gap;
  const height = rows * cell + gap;
  const pixels = new Uint8ClampedArray(width * height * 4).fill(255);
  const byte = (v: number) => Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5);
  for (let k = 0; k < n; k++) {
    const ox = gap + (k % cols) * cell;
    const oy = gap + Math.floor(k / cols) * cell;
    for (let y = 0; y < size * zoom; y++) {
      for (let x = 0; x < size * zoom; x++) {
        const src = Math.floor(y / zoom) * size + Math.floor(x / zoom);
        const dst = ((oy + y) * width + ox + x) * 4;
        for (let c = 0; c < 3; c++) {
          const ch = channels === 1 ? 0 : c;
          pixels[dst + c] = byte(images[(k * channels + ch) * size * size + src]!);
        }
        pixels[dst + 3] = 255;
      }
    }
  }
  return { width, height, pixels };
}

/** The grid encoded as PNG (fast-png: the same bytes in a page and in Node). */
export async function imagesToPngGrid(images: Float32Array, n: number, channels: number, size: number, zoom = 2): Promise<Uint8Array> {
  const { width, height, pixels } = imagesToRgbaGrid(images, n, channels, size, zoom);
  return encode({ width, height, data: pixels, channels: 4, depth: 8 });
}
