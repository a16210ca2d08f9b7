// Batches cut to the device's storage-binding limit: a training step or a sampling forward whose
// largest tensor (a layer's output, attention's scores) would exceed one binding runs its batch
// in parts. Training adds the parts' gradients (src/model/train/trainer.ts); sampling
// concatenates their outputs (src/model/diffusion/sample.ts).

import { runtime } from '../engine/index.ts';
import type { UNetConfig } from './config.ts';
import { UNet } from './unet.ts';

/** Bytes of the largest tensor one sample's training step binds (the forward's are no larger). */
export function largestPerSampleBytes(config: UNetConfig): number {
  return 4 * new UNet(config).plan(1).largestElements;
}

/** Samples, at most `batch`, whose largest tensor together fits in `limitBytes`; 0 when not even one does. */
export function samplesWithin(perSampleBytes: number, batch: number, limitBytes: number): number {
  return Math.min(batch, Math.floor(limitBytes / perSampleBytes));
}

/** Samples whose largest tensor fits one storage binding of this device, at most `batch`. */
export function samplesPerBinding(perSampleBytes: number, batch: number): number {
  const limit = runtime().bindingLimitBytes;
  const fit = samplesWithin(perSampleBytes, batch, limit);
  if (fit < 1) {
    throw new Error(
      `one sample's largest tensor (${mib(perSampleBytes)}) exceeds this device's storage-binding limit (${mib(limit)}): use a smaller model or image size`,
    );
  }
  return fit;
}

/** `batch` cut into consecutive parts of at most `size` samples, as even as possible. */
export function microBatches(batch: number, size: number): { start: number; count: number }[] {
  const parts = Math.ceil(batch / size);
  const base = Math.floor(batch / parts);
  const extra = batch % parts;
  const out: { start: number; count: number }[] = [];
  for (let i = 0, start = 0; i < parts; i++) {
    const count = base + (i < extra ? 1 : 0);
    out.push({ start, count });
    start += count;
  }
  return out;
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
