// The sampling-throughput row of `ddpm bench`: a grid of n images drawn by one sampler from a
// freshly initialised U-Net of the main command's preset (the CLI passes its config: the weights
// do not change the work). Ours only: the peers have no such U-Net (bench/WORKLOADS.md defines none).

import { runtime, type DType } from '../engine/index.ts';
import type { UNetConfig } from '../model/config.ts';
import { GaussianDiffusion, type DiffusionOptions } from '../model/diffusion/gaussian-diffusion.ts';
import { sample, type SamplerName } from '../model/diffusion/sample.ts';
import { UNet } from '../model/unet.ts';
import { summarize, type TimingSummary } from './stats.ts';

export interface SamplingSpec {
  /** The preset's name, for the description. */
  preset: string;
  model: Partial<UNetConfig>;
  diffusion: Partial<DiffusionOptions>;
  n: number;
  sampler: SamplerName;
  steps: number;
  warmupReps: number;
  timedReps: number;
  /** The network's precision (default f32); f16 needs the adapter's 'shader-f16'. */
  precision?: DType;
}

export const samplingRowName = (s: Pick<SamplingSpec, 'sampler' | 'steps' | 'n' | 'precision'>): string =>
  `sample_${s.sampler}${s.steps}_x${s.n}${s.precision === 'f16' ? '_f16' : ''}`;

export interface SamplingMeasurement {
  name: string;
  workload: { description: string; warmup_reps: number; timed_reps: number };
  /** Median wall time of one whole grid (every step, then the images read back). */
  ms: number;
  images_per_s: number;
  first_call_ms: number;
  wall: TimingSummary;
  /** Mean of the last grid's pixels (a check that it produced numbers). */
  check: { checksum: number };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export async function measureSampling(spec: SamplingSpec): Promise<SamplingMeasurement> {
  const model = new UNet(spec.model).build(1234).eval();
  const params = model.parameterCount();
  const diffusion = new GaussianDiffusion(spec.diffusion);
  const { device } = runtime();
  const times: number[] = [];
  let first = NaN;
  let checksum = NaN;
  try {
    for (let i = 0; i < spec.warmupReps + spec.timedReps; i++) {
      await device.queue.onSubmittedWorkDone();
      const start = performance.now();
      const images = await sample(model, diffusion, { n: spec.n, sampler: spec.sampler, steps: spec.steps, seed: 77 + i, precision: spec.precision ?? 'f32' });
      await device.queue.onSubmittedWorkDone();
      const ms = performance.now() - start;
      if (i === 0) first = ms;
      if (i >= spec.warmupReps) times.push(ms);
      checksum = images.reduce((a, b) => a + b, 0) / images.length;
    }
  } finally {
    model.dispose();
    diffusion.dispose();
  }
  const wall = summarize(times);
  return {
    name: samplingRowName(spec),
    workload: {
      description:
        `a grid of ${spec.n} images, ${spec.sampler} with ${spec.steps} steps, from the '${spec.preset}' U-Net in ${spec.precision ?? 'f32'} ` +
      `(${params} params, fresh weights; ${spec.model.imageSize}x${spec.model.imageSize}x${spec.model.inChannels}); ` +
        'ms = one whole grid: every step, the images read back, onSubmittedWorkDone',
      warmup_reps: spec.warmupReps,
      timed_reps: spec.timedReps,
    },
    ms: wall.median_ms,
    images_per_s: round3((spec.n * 1000) / wall.median_ms),
    first_call_ms: round3(first),
    wall,
    check: { checksum },
  };
}
