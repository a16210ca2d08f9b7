// timestepEmbedding(t, dim): the sinusoidal embedding of diffusers' get_timestep_embedding,
// differentiable in t. Kernels: src/shaders/timestep-embedding.ts. Reference:
// src/engine/reference/timestep-embedding.ts. Checks: src/engine/checks/timestep-embedding.ts.
//
//   half = floor(dim / 2),  f_i = exp(−ln(maxPeriod) · i / (half − downscaleFreqShift)),
//   a = t f,  emb = [sin a, cos a] ([cos a, sin a] when flipSinToCos), plus a zero column if dim
//   is odd.
// Conventions: DDPM's original code (Ho et al., and WORKLOADS.md's U-Net) puts sin first and
// divides by half − 1, i.e. flipSinToCos = false, downscaleFreqShift = 1 (these defaults, which
// are also get_timestep_embedding's own). diffusers' UNet2DModel instead uses
// flip_sin_to_cos = True, freq_shift = 0.

import { timestepEmbeddingGradKernel, timestepEmbeddingKernel } from '../../shaders/timestep-embedding.ts';
import { record } from '../tape.ts';
import { fmt } from '../shape.ts';
import { assertTensor, constant, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';

export interface TimestepEmbeddingOptions {
  /** [cos, sin] instead of [sin, cos]. Default false. */
  flipSinToCos?: boolean;
  /** Subtracted from half in the exponent's divisor. Default 1 (DDPM). */
  downscaleFreqShift?: number;
  /** The longest period, reached by the last frequency when the shift is 0. Default 10000. */
  maxPeriod?: number;
}

/**
 * The frequencies exactly as PyTorch's float32 arithmetic produces them (each step rounded to
 * float32), so the GPU's a = t·f matches diffusers' to the last bit wherever exp agrees.
 */
export function timestepFrequencies(half: number, downscaleFreqShift: number, maxPeriod: number): Float32Array {
  const f = Math.fround;
  const negLog = f(-Math.log(maxPeriod));
  const divisor = f(half - downscaleFreqShift);
  return Float32Array.from({ length: half }, (_, i) => f(Math.exp(f(f(negLog * i) / divisor))));
}

/** t [B] (float timesteps) → [B, dim]. */
export function timestepEmbedding(t: Tensor, dim: number, options: TimestepEmbeddingOptions = {}): Tensor {
  assertTensor('timestepEmbedding', 't', t);
  const { flipSinToCos = false, downscaleFreqShift = 1, maxPeriod = 10000 } = options;
  if (t.rank !== 1) throw new Error(`timestepEmbedding: t ${fmt(t.shape)} must be a vector of timesteps [batch]`);
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`timestepEmbedding: dim must be a positive integer, got ${dim}`);
  const half = Math.floor(dim / 2);
  if (half > 0 && half - downscaleFreqShift === 0) {
    throw new Error(
      `timestepEmbedding: dim ${dim} gives half = ${half}, and half − downscaleFreqShift (${downscaleFreqShift}) is 0`,
    );
  }
  if (!(maxPeriod > 0)) throw new Error(`timestepEmbedding: maxPeriod must be positive, got ${maxPeriod}`);
  const batch = t.shape[0]!;
  // A constant, not recorded on the tape; the caller's scope frees it with the other intermediates.
  const freqs = constant(timestepFrequencies(Math.max(half, 1), downscaleFreqShift, maxPeriod), [Math.max(half, 1)]);
  const uniforms = { batch, dim, half, flip: flipSinToCos ? 1 : 0 };
  const out = emptyTensor([batch, dim], 'timestepEmbedding');
  launch(timestepEmbeddingKernel, {}, { ts: t, freqs, outs: out }, { ...uniforms, count: out.size });
  return record(out, 'timestepEmbedding', [t], (g) => {
    const dt = emptyTensor(t.shape, 'timestepEmbedding-grad');
    launch(timestepEmbeddingGradKernel, {}, { ts: t, freqs, gs: g, dts: dt }, uniforms);
    return [dt];
  });
}
