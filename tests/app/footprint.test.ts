// Whether an adapter can train a config: a batch beyond one storage binding runs as micro-batches;
// only a single sample beyond it is refused.

import { expect, test } from 'vitest';
import { footprintMicroBatches, footprintRefusal, presetFootprint } from '../../src/app/footprint.ts';
import type { DeviceReport } from '../../src/engine/index.ts';

const adapter = (maxStorageBufferBindingSize: number): DeviceReport => ({
  adapter: { vendor: 'test', architecture: '', device: '', description: '' },
  isFallbackAdapter: false,
  features: [],
  limits: { maxStorageBufferBindingSize, maxBufferSize: 2 * maxStorageBufferBindingSize },
  subgroupSizes: null,
  cpuThreads: null,
});

test('micro-batches follow the binding limit; a sample beyond it is refused with the sizes', () => {
  const f = presetFootprint('ddpm-cifar10', 128);
  const perSample = f.largestTensorBytes / 128;
  expect(footprintMicroBatches(f, adapter(2 ** 31))).toBe(1);
  expect(footprintRefusal(f, adapter(2 ** 31))).toBeNull();
  // WebGPU's default 128 MiB: 85 samples a part, so 2 parts.
  expect(footprintMicroBatches(f, adapter(128 * 2 ** 20))).toBe(Math.ceil(128 / Math.floor((128 * 2 ** 20) / perSample)));
  expect(footprintMicroBatches(f, adapter(128 * 2 ** 20))).toBe(2);
  expect(footprintRefusal(f, adapter(perSample - 4))).toMatch(/^one sample's largest tensor \(2 MiB\) exceeds this adapter's storage-binding limit \(1 MiB\)/);
});
