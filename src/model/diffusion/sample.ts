// Sampling loops on the GPU, seeded: DDPM ancestral sampling over all T steps, DDIM over any
// number of steps with stochasticity eta, and DPM-Solver++(2M), a second-order ODE solver that
// reaches in ~20 steps what DDIM needs ~50 for. Optionally hands out x_t and the predicted x0 every
// k steps so a page can show the reverse process.

import { add, concat, deriveSeed, flush, mul, noGrad, randomNormal, runtime, scope, slice, tensor, type DType, type Tensor } from '../../engine/index.ts';
import { largestPerSampleBytes, microBatches, samplesPerBinding } from '../micro-batches.ts';
import { HalfWeights } from '../nn/half-weights.ts';
import type { UNet } from '../unet.ts';
import { ReplayedForward, type Execution } from '../replayed-forward.ts';
import { diffusersPlan } from './diffusers-steps.ts';
import type { GaussianDiffusion } from './gaussian-diffusion.ts';
import {
  ddimCoefficients,
  ddimTimesteps,
  ddpmCoefficients,
  dpmSolverPlan,
  samplerStep,
  type StepCoefficients,
  type VarianceType,
} from './sampler-step.ts';

/** The samplers, by the name front ends use, with what they are called in the literature. */
export const SAMPLERS = {
  ddim: 'DDIM',
  'dpm-solver': 'DPM-Solver++(2M)',
  ddpm: 'DDPM (ancestral)',
} as const;
export type SamplerName = keyof typeof SAMPLERS;

/** `name` as a sampler, or an error that lists the samplers. */
export function samplerName(name: string): SamplerName {
  if (!(name in SAMPLERS)) throw new Error(`unknown sampler '${name}': use ${Object.keys(SAMPLERS).join(', ')}`);
  return name as SamplerName;
}

export interface SampleOptions {
  n: number;
  sampler: SamplerName;
  /** DDIM and DPM-Solver steps (default 50); DDPM's with diffusers' conventions (default T; ours always take T). */
  steps?: number;
  /** DDIM stochasticity: 0 deterministic, 1 DDPM-like. */
  eta?: number;
  /** Clip the predicted x0 at each step (default true; with diffusers' conventions, its clip_sample). */
  clipX0?: boolean;
  /** DDPM σ² (default: the diffusion's variance). */
  variance?: VarianceType;
  seed: number;
  /** Report x_t and x0 every this many steps (0: never). */
  every?: number;
  onFrame?: (frame: SampleFrame) => void;
  /** Stops sampling between steps (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * The network's precision: 'f16' stores weights and activations in half precision (needs the
   * adapter's 'shader-f16'); default: f16 where the kernel tuning says so (a real GPU with it).
   */
  precision?: DType;
  /**
   * 'replay' (the default): the first step's network forward is captured and every later step
   * replays it (src/engine/replay.ts; bit-identical, without re-running the ops' JavaScript);
   * 'eager' runs every forward op by op (for debugging).
   */
  execution?: Execution;
}

export interface SampleFrame {
  /** Index of the step just taken (0-based) and the timestep it left. */
  index: number;
  t: number;
  xt: Float32Array;
  x0: Float32Array;
}

/** The precision sampling runs the network in: `requested`, else f16 where the kernel tuning says so. */
export function samplingPrecision(requested?: DType): DType {
  return requested ?? (runtime().tuning.sampleInHalf ? 'f16' : 'f32');
}

/** Draws `n` images [n, C, H, W] in [−1, 1] (clipped x0 keeps them there). */
export async function sample(model: UNet, diffusion: GaussianDiffusion, options: SampleOptions): Promise<Float32Array> {
  const c = model.config;
  const shape = [options.n, c.inChannels, c.imageSize, c.imageSize];
  const variance = options.variance ?? diffusion.options.variance;
  const learned = variance === 'learned';
  if (learned !== c.learnedVariance) throw new Error(`sampling with variance '${variance}' needs a model ${learned ? 'with' : 'without'} learnedVariance`);
  const plan = samplingPlan(diffusion, options, variance);
  const half = samplingPrecision(options.precision) === 'f16' ? HalfWeights.castFrom(model) : null;
  try {
    return await sampleLoop(model, half, diffusion, options, plan, shape);
  } finally {
    half?.dispose();
  }
}

/** The reverse process over `plan`, the network in f16 with `half`'s weights or else in f32. */
async function sampleLoop(
  model: UNet,
  half: HalfWeights | null,
  diffusion: GaussianDiffusion,
  options: SampleOptions,
  plan: PlannedStep[],
  shape: number[],
): Promise<Float32Array> {
  const learned = model.config.learnedVariance;
  const conventions = diffusion.options.diffusers;
  const clipX0 = options.clipX0 ?? conventions?.clipSample ?? true;
  const clipRange = conventions?.clipSampleRange ?? 1;
  let x = randomNormal(shape, { seed: options.seed });
  const imagesPerForward = samplesPerBinding(largestPerSampleBytes(model.config), options.n);
  // The previous step's x̂0, kept for DPM-Solver's second-order term.
  let prevX0 = null as Tensor | null;
  const weights = model.parameters().map((p) => (half ? half.get(p) : p.value));
  const network = new ReplayedForward((xs, ts) => forwardInParts(model, half, xs, ts, imagesPerForward), options.execution, weights);
  try {
    for (let i = 0; i < plan.length; i++) {
      if (options.signal?.aborted) {
        x.dispose();
        prevX0?.dispose();
        throw options.signal.reason ?? new DOMException('sampling was stopped', 'AbortError');
      }
      const { t, k, prevX0Weight } = plan[i]!;
      const { xPrev, x0 } = noGrad(() =>
        scope(() => {
          const out = network.forward(x, tensor(new Array<number>(x.shape[0]!).fill(t)));
          const step = samplerStep(x, out, k, {
            objective: diffusion.options.objective,
            clipX0,
            clipRange,
            learnedVariance: learned,
            noise: { seed: deriveSeed(options.seed, 'step', i), counter: 0 },
          });
          // DPM-Solver's second-order term: the previous step's x̂0.
          if (prevX0Weight === 0 || !prevX0) return step;
          return { xPrev: add(step.xPrev, mul(prevX0, prevX0Weight)), x0: step.x0 };
        }),
      );
      x.dispose();
      x = xPrev;
      prevX0?.dispose();
      prevX0 = x0;
      const last = i === plan.length - 1;
      if (options.every && options.onFrame && (i % options.every === options.every - 1 || last)) {
        const frame = { index: i, t, xt: await x.read(), x0: await x0.read() };
        options.onFrame(frame);
      } else {
        flush();
        // Keep at most a few steps in flight so progress reflects the GPU.
        if (i % 4 === 3) await runtime().device.queue.onSubmittedWorkDone();
      }
    }
  } finally {
    network.dispose();
  }
  const images = await x.read();
  x.dispose();
  prevX0?.dispose();
  return images;
}

/**
 * The model's output for x at timesteps t [n], `size` images at a time when the whole batch's
 * activations would exceed one storage binding (their outputs are concatenated).
 */
function forwardInParts(model: UNet, half: HalfWeights | null, x: Tensor, t: Tensor, size: number): Tensor {
  const n = x.shape[0]!;
  const run = (xs: Tensor, ts: Tensor) => (half ? model.forwardHalf(xs, ts, half) : model.forward(xs, ts));
  if (size >= n) return run(x, t);
  return concat(
    microBatches(n, size).map(({ start, count }) => run(slice(x, 0, start, start + count), slice(t, 0, start, start + count))),
    0,
  );
}

interface PlannedStep {
  t: number;
  /** The step as x_prev = a·x̂0 + b·x_t + c·ε + σ·z … */
  k: StepCoefficients;
  /** … plus this times the previous step's x̂0 (DPM-Solver's second order; 0 otherwise). */
  prevX0Weight: number;
}

function samplingPlan(diffusion: GaussianDiffusion, options: SampleOptions, variance: VarianceType): PlannedStep[] {
  const schedule = diffusion.schedule;
  const conventions = diffusion.options.diffusers;
  if (conventions && options.sampler !== 'dpm-solver') {
    // A model from diffusers samples with its scheduler's timesteps and step rules.
    const steps = options.steps ?? (options.sampler === 'ddpm' ? schedule.T : 50);
    const plan = diffusersPlan(schedule, conventions, { sampler: options.sampler, steps, eta: options.eta ?? 0, variance });
    return plan.map((p) => ({ ...p, prevX0Weight: 0 }));
  }
  const steps = options.steps ?? 50;
  if (options.sampler === 'ddpm') {
    return [...Array(schedule.T).keys()].reverse().map((t) => ({ t, k: ddpmCoefficients(schedule, t, variance), prevX0Weight: 0 }));
  }
  if (options.sampler === 'ddim') {
    return ddimTimesteps(schedule.T, steps).map((t, i, all) => ({
      t,
      k: ddimCoefficients(schedule, t, all[i + 1] ?? -1, options.eta ?? 0),
      prevX0Weight: 0,
    }));
  }
  return dpmSolverPlan(schedule, steps).map((p) => ({
    t: p.t,
    k: {
      sqrtAlphaBar: schedule.sqrtAlphasCumprod[p.t]!,
      sqrtOneMinusAlphaBar: schedule.sqrtOneMinusAlphasCumprod[p.t]!,
      a: p.x0Weight,
      b: p.xScale,
      c: 0,
      sigma: 0,
      logBeta: 0,
      logBetaTilde: 0,
      addNoise: false,
    },
    prevX0Weight: p.prevX0Weight,
  }));
}
