// The sample-quality metric with the shipped classifier: it ranks real test images below blurred
// real images below noise, and the classifier file states the accuracy the README quotes.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { loadClassifierInfo } from '../../src/model/quality/classifier-file.ts';
import { inPage } from '../setup/page.ts';

const CLASSIFIER = new URL('../../models/fashion-mnist-classifier.safetensors', import.meta.url);

test('the shipped classifier is a Fashion-MNIST classifier with ≥ 90% test accuracy in its header', () => {
  const info = loadClassifierInfo(readFileSync(CLASSIFIER));
  expect(info.dataset).toBe('fashion-mnist');
  expect(info.testImages).toBe(10000);
  expect(info.testAccuracy).toBeGreaterThanOrEqual(0.9);
});

test('normalised FD: real test images < blurred real images < noise (16x16, 200 images each)', async () => {
  const bytes = readFileSync(CLASSIFIER).toString('base64');
  const r = await inPage(async (b64: string) => {
    const h = (window as any).ddpmHarness;
    const file = await h.importModule('/src/model/quality/classifier-file.ts');
    const quality = await h.importModule('/src/model/quality/quality.ts');
    const resize = await h.importModule('/src/model/quality/resize.ts');
    const sources = await h.importModule('/src/model/data/sources.ts');
    const loader = await h.importModule('/src/model/data/loader.ts');
    const raw = atob(b64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    const { model } = file.loadClassifier(bytes);
    const base = '/@fs/usr/share/datasets/fashion-mnist/';
    const first = (set: any, from: number, n: number) => ({ ...set, count: n, images: set.images.subarray(from * 784, (from + n) * 784) });
    const train = await sources.loadIdxDataset(base, 'train', 'fashion-mnist');
    const test = await sources.loadIdxDataset(base, 'test', 'fashion-mnist');
    const size = 16;
    const n = 200;
    const reference = loader.prepareImages(first(train, 0, 2000), size);
    const floorSet = loader.prepareImages(first(test, 0, n), size);
    const meter = await quality.QualityMeter.create(model, size, 1, { images: reference, count: 2000 }, { images: floorSet, count: n });
    const other = loader.prepareImages(first(test, 1000, n), size);
    const blurred = resize.resizeImages(resize.resizeImages(other, n, 1, size, 6), n, 1, 6, size);
    const real = await meter.measure({ images: other, count: n });
    const blur = await meter.measure({ images: blurred, count: n });
    const noise = await meter.measure(meter.noiseImages(n));
    model.dispose();
    return { real: real.normalised, blur: blur.normalised, noise: noise.normalised, realConfident: real.confidentShare, hist: real.classHistogram };
  }, bytes);
  expect(Math.abs(r.real)).toBeLessThan(0.05);
  expect(r.blur).toBeGreaterThan(r.real + 0.05);
  expect(r.noise).toBeGreaterThan(r.blur);
  expect(r.noise).toBeCloseTo(1, 1);
  expect(r.realConfident).toBeGreaterThan(0.5);
  expect(Math.min(...r.hist)).toBeGreaterThan(0); // every class appears among 200 real images
});
