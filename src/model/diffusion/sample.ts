// Sampling loops on the GPU, seeded: DDPM ancestral sampling over all T steps, and DDIM over any
// number of steps with stochasticity eta. Optionally hands out x_t and the predicted x0 every
// k steps so a page can show the reverse process.

import { deriveSeed, flush, noGrad, randomNormal, runtime, scope, tensor } from '../../engine/index.ts';
import type { UNet } from '../unet.ts';
import type { GaussianDiffusion } from './gaussian-diffusion.ts';
import {
  ddimCoefficients,
  ddimTimesteps,
  ddpmCoefficients,
  samplerStep,
  type VarianceType,
} from './sampler-step.ts';

export interface SampleOptions {
  n: number;
  sampler: 'ddpm' | 'ddim';
  /** DDIM steps (default 50). */
  steps?: number;
  /** DDIM stochasticity: 0 deterministic, 1 DDPM-like. */
  eta?: number;
  /** Clip the predicted x0 to [−1, 1] at each step (default true). */
  clipX0?: boolean;
  /** DDPM σ² (default: the diffusion's variance). */
  variance?: VarianceType;
  seed: number;
  /** Report x_t and x0 every this many steps (0: never). */
  every?: number;
  onFrame?: (frame: SampleFrame) => void;
  /** Stops sampling between steps (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface SampleFrame {
  /** Index of the step just taken (0-based) and the timestep it left. */
  index: number;
  t: number;
  xt: Float32Array;
  x0: Float32Array;
}

/** Draws `n` images [n, C, H, W] in [−1, 1] (clipped x0 keeps them there). */
export async function sample(model: UNet, diffusion: GaussianDiffusion, options: SampleOptions): Promise<Float32Array> {
  const c = model.config;
  const shape = [options.n, c.inChannels, c.imageSize, c.imageSize];
  const variance = options.variance ?? diffusion.options.variance;
  const learned = variance === 'learned';
  if (learned !== c.learnedVariance) throw new Error(`sampling with variance '${variance}' needs a model ${learned ? 'with' : 'without'} learnedVariance`);
  const schedule = diffusion.schedule;
  const plan =
    options.sampler === 'ddpm'
      ? [...Array(schedule.T).keys()].reverse().map((t) => ({ t, k: ddpmCoefficients(schedule, t, variance) }))
      : ddimTimesteps(schedule.T, options.steps ?? 50).map((t, i, all) => ({
          t,
          k: ddimCoefficients(schedule, t, all[i + 1] ?? -1, options.eta ?? 0),
        }));
  let x = randomNormal(shape, { seed: options.seed });
  for (let i = 0; i < plan.length; i++) {
    if (options.signal?.aborted) {
      x.dispose();
      throw options.signal.reason ?? new DOMException('sampling was stopped', 'AbortError');
    }
    const { t, k } = plan[i]!;
    const { xPrev, x0 } = noGrad(() =>
      scope(() => {
        const out = model.forward(x, tensor(new Array<number>(options.n).fill(t)));
        return samplerStep(x, out, k, {
          objective: diffusion.options.objective,
          clipX0: options.clipX0 ?? true,
          learnedVariance: learned,
          noise: { seed: deriveSeed(options.seed, 'step', i), counter: 0 },
        });
      }),
    );
    x.dispose();
    x = xPrev;
    const last = i === plan.length - 1;
    if (options.every && options.onFrame && (i % options.every === options.every - 1 || last)) {
      const frame = { index: i, t, xt: await x.read(), x0: await x0.read() };
      x0.dispose();
      options.onFrame(frame);
    } else {
      x0.dispose();
      flush();
      // Keep at most a few steps in flight so progress reflects the GPU.
      if (i % 4 === 3) await runtime().device.queue.onSubmittedWorkDone();
    }
  }
  const images = await x.read();
  x.dispose();
  return images;
}
