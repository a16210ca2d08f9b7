// Sampling for the front ends: DDPM or DDIM from a model, with x_t and the predicted x̂0 handed
// out every few steps as image batches.

import type { DType } from '../engine/index.ts';
import { sample, samplingPrecision, type SamplerName } from '../model/diffusion/sample.ts';

export { SAMPLERS, samplerName, type SamplerName } from '../model/diffusion/sample.ts';
import type { Execution } from '../model/replayed-forward.ts';
import type { Weights, InferenceModel } from './checkpoint-io.ts';
import { imageBatch, type ImageBatch } from './images.ts';

export interface SampleRequest {
  sampler: SamplerName;
  n: number;
  /** DDIM and DPM-Solver steps (at most T; DDPM always takes T). Default 50. */
  steps?: number;
  /** DDIM stochasticity: 0 deterministic, 1 DDPM-like. */
  eta?: number;
  seed: number;
  /** Report x_t and x̂0 every this many steps (0 or absent: never). */
  every?: number;
  /** Clip the predicted x0 at each step (default true; for a model from diffusers, its scheduler's clip_sample). */
  clipX0?: boolean;
  /** EMA weights (default) or the trained ones. */
  weights?: Weights;
  /** The network's precision (default: f16 on a GPU with 'shader-f16', else f32). */
  precision?: DType;
  /** 'replay' (default): the first step's forward captured and replayed; 'eager': op by op, for debugging. */
  execution?: Execution;
}

export interface SampleFrameView {
  /** The step just taken (0-based) and the timestep it left. */
  index: number;
  t: number;
  xt: ImageBatch;
  x0: ImageBatch;
}

export interface SampleHooks {
  onFrame?(frame: SampleFrameView): void;
  /** Stops sampling before its next step (the promise rejects). */
  signal?: AbortSignal;
}

export interface SampleResult {
  images: ImageBatch;
  /** The training step whose weights were sampled. */
  fromStep: number;
  steps: number;
  seconds: number;
  precision: DType;
}

/**
 * The number of network evaluations a request takes on a schedule of T steps (`diffusers`: the
 * model samples with diffusers' conventions, where DDPM may take fewer steps than T, as DDPMPipeline's num_inference_steps).
 */
export function sampleSteps(request: SampleRequest, T: number, diffusers = false): number {
  if (request.sampler === 'ddpm') return diffusers ? Math.min(request.steps ?? T, T) : T;
  return Math.min(request.steps ?? 50, T);
}

/** Draws `request.n` images from `source`. */
export async function sampleImages(source: InferenceModel, request: SampleRequest, hooks: SampleHooks = {}): Promise<SampleResult> {
  const { model, diffusion } = source;
  const c = model.config;
  const steps = sampleSteps(request, diffusion.T, diffusion.options.diffusers !== undefined);
  const every = request.every && request.every > 0 ? Math.max(1, Math.floor(request.every)) : 0;
  const onFrame = hooks.onFrame;
  const t0 = performance.now();
  const precision = samplingPrecision(request.precision);
  const images = await sample(model, diffusion, {
    precision,
    n: request.n,
    sampler: request.sampler,
    steps,
    eta: request.eta ?? 0,
    seed: request.seed,
    ...(request.clipX0 !== undefined ? { clipX0: request.clipX0 } : {}),
    ...(every && onFrame
      ? { every, onFrame: (f) => onFrame({ index: f.index, t: f.t, xt: imageBatch(f.xt, request.n, c), x0: imageBatch(f.x0, request.n, c) }) }
      : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(request.execution ? { execution: request.execution } : {}),
  });
  return { images: imageBatch(images, request.n, c), fromStep: source.step, steps, seconds: (performance.now() - t0) / 1000, precision };
}
