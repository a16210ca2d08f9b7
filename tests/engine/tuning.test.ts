// Kernel choices follow from what the adapter reports (src/engine/tuning.ts): a report of each
// kind of adapter, made here, and the choices that must differ between them.

import { expect, test } from 'vitest';
import type { DeviceReport } from '../../src/engine/device.ts';
import { kernelTuning } from '../../src/engine/tuning.ts';

function report(kind: { fallback: boolean; architecture: string; features: string[] }): DeviceReport {
  return {
    adapter: { vendor: 'test', architecture: kind.architecture, device: '', description: '' },
    isFallbackAdapter: kind.fallback,
    features: kind.features,
    limits: { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 },
    subgroupSizes: null,
    cpuThreads: 2,
  };
}

const gpu = report({ fallback: false, architecture: 'hopper', features: ['shader-f16', 'subgroups'] });
const gpuWithoutF16 = report({ fallback: false, architecture: 'gen-12lp', features: [] });
const swiftshader = report({ fallback: false, architecture: 'swiftshader', features: ['subgroups'] });
const lavapipe = report({ fallback: true, architecture: 'software', features: ['shader-f16', 'subgroups'] });

test('sampling runs in f16 on a GPU with shader-f16 only: not without it, not on a CPU adapter that has it', () => {
  expect(kernelTuning(gpu).sampleInHalf).toBe(true);
  expect(kernelTuning(gpuWithoutF16).sampleInHalf).toBe(false);
  expect(kernelTuning(swiftshader).sampleInHalf).toBe(false);
  expect(kernelTuning(lavapipe).sampleInHalf).toBe(false);
  // A GPU's kernel shapes on a CPU adapter leave its precision as it was.
  expect(kernelTuning(lavapipe, 'gpu').sampleInHalf).toBe(false);
});

test("shapesFor 'gpu' on a software adapter gives a real GPU's kernel shapes, and the reverse", () => {
  const shapes = (t: ReturnType<typeof kernelTuning>) => ({ ...t, sampleInHalf: undefined });
  expect(shapes(kernelTuning(lavapipe, 'gpu'))).toEqual(shapes(kernelTuning(gpu)));
  expect(shapes(kernelTuning(gpu, 'software'))).toEqual(shapes(kernelTuning(lavapipe)));
  expect(kernelTuning(swiftshader).matmulTiled).toBe(false);
  expect(kernelTuning(swiftshader, 'gpu').matmulTiled).toBe(true);
});
