// User images: a folder on the command line becomes files for the page, which decodes,
// center-crops and resizes them in the browser (the same path as files picked on the demo page).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { datasetSpec } from '../../src/cli/datasets.ts';
import { inPage } from '../setup/page.ts';

test('a folder of PNGs loads as [N, C, S, S] bytes: grayscale or RGB, cropped and resized; bad files are named', async () => {
  // Two 8x4 PNGs made by the browser: left half black, right half white; and one red.
  const pngs = await inPage(async () => {
    const make = async (draw: (ctx: OffscreenCanvasRenderingContext2D) => void) => {
      const canvas = new OffscreenCanvas(8, 4);
      const ctx = canvas.getContext('2d')!;
      draw(ctx);
      return Array.from(new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer()));
    };
    return [
      await make((c) => {
        c.fillStyle = '#000';
        c.fillRect(0, 0, 8, 4);
        c.fillStyle = '#fff';
        c.fillRect(4, 0, 4, 4);
      }),
      await make((c) => {
        c.fillStyle = '#f00';
        c.fillRect(0, 0, 8, 4);
      }),
    ];
  });
  const dir = mkdtempSync(join(tmpdir(), 'ddpm-images-'));
  writeFileSync(join(dir, 'a.png'), Uint8Array.from(pngs[0]!));
  writeFileSync(join(dir, 'b.png'), Uint8Array.from(pngs[1]!));
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  const spec = datasetSpec(dir, 'train');
  expect(spec.kind).toBe('files');
  const r = await inPage(async (files: { name: string; base64: string }[]) => {
    const { imageSetFromFiles } = await (window as any).ddpmHarness.importModule('/src/model/data/sources.ts');
    const blobs = files.map((f) => new File([Uint8Array.from(atob(f.base64), (ch) => ch.charCodeAt(0))], f.name));
    const gray = await imageSetFromFiles(blobs, 4, 1);
    const rgb = await imageSetFromFiles(blobs, 4, 3);
    let bad = '';
    try {
      await imageSetFromFiles([new File([new Uint8Array([1, 2, 3])], 'broken.png')], 4, 1);
    } catch (e) {
      bad = (e as Error).message;
    }
    return { gray: { count: gray.count, images: Array.from(gray.images) as number[] }, rgb: Array.from(rgb.images) as number[], bad };
  }, (spec as { files: { name: string; base64: string }[] }).files);
  expect(r.gray.count).toBe(2);
  // Image a, center-cropped to its middle 4x4 (columns 2..5): left half dark, right half light.
  const a = r.gray.images.slice(0, 16);
  expect(a[0]).toBeLessThan(40);
  expect(a[3]).toBeGreaterThan(215);
  // Image b is red: R = 255, G = B = 0 in RGB; 0.299·255 ≈ 76 in grayscale.
  expect(r.rgb.slice(48, 64).every((v) => v === 255)).toBe(true);
  expect(r.rgb.slice(64, 96).every((v) => v === 0)).toBe(true);
  expect(Math.abs(r.gray.images[16]! - 76)).toBeLessThanOrEqual(1);
  expect(r.bad).toBe('broken.png: not a readable image');
});
