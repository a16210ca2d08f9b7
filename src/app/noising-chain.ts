// The forward process shown on a real image: q(x_t | x0) of one dataset image at evenly spaced
// t, all with the same ε, read back for display.

import { noGrad, randomNormal, scope, tensor } from '../engine/index.ts';
import { GaussianDiffusion } from '../model/diffusion/gaussian-diffusion.ts';
import type { PreparedDataset } from './dataset-cache.ts';
import type { ImageBatch } from './images.ts';
import type { ScheduleChoice } from './schedules.ts';

export interface ChainResult {
  images: ImageBatch;
  timesteps: number[];
  alphaBars: number[];
  label: string;
}

/** `count` timesteps evenly spaced over 0..T−1 (fewer when T is small: no repeats). */
export function chainTimesteps(T: number, count: number): number[] {
  return [...new Set(Array.from({ length: count }, (_, k) => Math.round((k * (T - 1)) / Math.max(1, count - 1))))];
}

/** x_t of image `index` of `data` (wrapping around) at `count` timesteps of `schedule`, with ε drawn from `seed`. */
export async function noisingChain(
  data: PreparedDataset,
  label: (i: number) => string,
  request: { index: number; schedule: ScheduleChoice; count: number; seed: number },
): Promise<ChainResult> {
  const [C, S] = [data.shape[0], data.shape[1]];
  const plane = C * S * S;
  const i = ((request.index % data.count) + data.count) % data.count;
  const diffusion = new GaussianDiffusion({ schedule: { type: request.schedule.type, T: request.schedule.T } });
  try {
    const timesteps = chainTimesteps(diffusion.T, request.count);
    const xt = noGrad(() =>
      scope(() => {
        const x0 = tensor(data.images.slice(i * plane, (i + 1) * plane), [1, C, S, S]);
        return diffusion.qSampleChain(x0, timesteps, randomNormal([1, C, S, S], { seed: request.seed }));
      }),
    );
    const images = await xt.read();
    xt.dispose();
    return {
      images: { data: images, n: timesteps.length, channels: C, size: S },
      timesteps,
      alphaBars: timesteps.map((t) => diffusion.schedule.alphasCumprod[t]!),
      label: `${label(i)} (#${i + 1} of ${data.count})`,
    };
  } finally {
    diffusion.dispose();
  }
}
