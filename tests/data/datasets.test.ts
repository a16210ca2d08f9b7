// IDX parsing and validation (real Fashion-MNIST files and broken ones), resizing, scaling and
// the seeded loader.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { DatasetError, imageSetFromIdx, parseIdx } from '../../src/model/data/idx.ts';
import { BatchLoader, prepareImages, resizePlane } from '../../src/model/data/loader.ts';

const DIR = '/usr/share/datasets/fashion-mnist';
const read = (f: string) => new Uint8Array(gunzipSync(readFileSync(`${DIR}/${f}`)));

function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, (type << 8) | dims.length, false);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('datasets', () => {
  test('Fashion-MNIST parses: 60000 and 10000 images of 28x28 with labels 0..9', () => {
    const train = imageSetFromIdx(parseIdx(read('train-images-idx3-ubyte.gz'), 'train images', 3), parseIdx(read('train-labels-idx1-ubyte.gz'), 'train labels', 1), 'train');
    const testSet = imageSetFromIdx(parseIdx(read('t10k-images-idx3-ubyte.gz'), 'test images', 3), parseIdx(read('t10k-labels-idx1-ubyte.gz'), 'test labels', 1), 'test');
    expect([train.count, train.height, train.width]).toEqual([60000, 28, 28]);
    expect(testSet.count).toBe(10000);
    expect(Math.max(...testSet.labels!)).toBe(9);
  });

  test('broken IDX input is refused with the reason', () => {
    const good = idx([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(parseIdx(good, 'ok', 3).dims).toEqual([2, 2, 2]);
    expect(() => parseIdx(good.subarray(0, good.length - 1), 'short.idx', 3)).toThrow(
      'short.idx: header says [2x2x2] = 8 bytes of data but the file has 7',
    );
    expect(() => parseIdx(idx([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7], 0x0d), 'floats.idx')).toThrow(/magic number 0x00000d03 is not an unsigned-byte IDX file/);
    expect(() => parseIdx(readFileSync(`${DIR}/t10k-labels-idx1-ubyte.gz`), 'labels.gz')).toThrow(/is it gzipped/);
    expect(() => parseIdx(idx([4], [1, 2, 3, 4]), 'labels', 3)).toThrow('labels: rank 1, expected 3 (images)');
    expect(() => imageSetFromIdx(parseIdx(good, 'i', 3), parseIdx(idx([3], [1, 2, 3]), 'l', 1), 'pair')).toThrow('pair: 2 images but 3 labels');
    expect(() => parseIdx(new Uint8Array(2), 'empty')).toThrow(DatasetError);
  });

  test('area resizing averages exactly for integer factors and keeps constants', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    expect(Array.from(resizePlane(src, 4, 4, 2, 2))).toEqual([2.5, 4.5, 10.5, 12.5]);
    expect(Array.from(resizePlane(new Float32Array(28 * 28).fill(0.25), 28, 28, 16, 16)).every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
  });

  test('images scale from [0, 255] to [−1, 1]', () => {
    const set = { images: Uint8Array.from([0, 255, 51, 204]), labels: null, count: 1, height: 2, width: 2, channels: 1 };
    expect(Array.from(prepareImages(set, 2)).map((v) => Number(v.toFixed(6)))).toEqual([-1, 1, -0.6, 0.6]);
  });

  test('the loader is seeded: the same seed gives the same batches, epochs reshuffle, state round-trips, flips mirror', () => {
    const count = 10;
    const images = Float32Array.from({ length: count * 4 }, (_, i) => Math.floor(i / 4) + (i % 4) / 10);
    const make = (flip = false) => new BatchLoader(images, count, [1, 2, 2], { batchSize: 4, seed: 3, horizontalFlip: flip });
    const a = make();
    const b = make();
    const firstEpoch = [a.next(), a.next(), a.next()];
    expect([b.next(), b.next(), b.next()]).toEqual(firstEpoch);
    const seen = new Set<number>();
    for (const batch of firstEpoch.slice(0, 2)) for (let k = 0; k < 4; k++) seen.add(Math.floor(batch[k * 4]!));
    expect(seen.size).toBe(8); // no image twice within an epoch
    const state = a.getState();
    const next = a.next();
    const c = make();
    c.setState(state);
    expect(c.next()).toEqual(next);
    const flipped = make(true).next();
    const plain = make(false).next();
    for (let k = 0; k < 4; k++) {
      const row = Array.from(plain.subarray(k * 4, k * 4 + 2));
      const frow = Array.from(flipped.subarray(k * 4, k * 4 + 2));
      expect(frow.join() === row.join() || frow.join() === [...row].reverse().join()).toBe(true);
    }
  });
});
