// Float64 reference for the sinusoidal timestep embedding (diffusers get_timestep_embedding),
// with exact frequencies: f_i = exp(−ln(maxPeriod) · i / (half − shift)).

import { refArray, type Ref } from './ndarray.ts';

export interface RefTimestepEmbeddingOptions {
  flipSinToCos: boolean;
  downscaleFreqShift: number;
  maxPeriod: number;
}

function frequencies(half: number, o: RefTimestepEmbeddingOptions): number[] {
  return Array.from({ length: half }, (_, i) => Math.exp((-Math.log(o.maxPeriod) * i) / (half - o.downscaleFreqShift)));
}

/** Column offsets of the sin and cos halves. */
function columns(half: number, o: RefTimestepEmbeddingOptions): { sin: number; cos: number } {
  return o.flipSinToCos ? { sin: half, cos: 0 } : { sin: 0, cos: half };
}

export function refTimestepEmbedding(t: Ref, dim: number, o: RefTimestepEmbeddingOptions): Ref {
  const half = Math.floor(dim / 2);
  const f = frequencies(half, o);
  const at = columns(half, o);
  const out = refArray([t.data.length, dim]);
  t.data.forEach((tb, b) => {
    for (let i = 0; i < half; i++) {
      out.data[b * dim + at.sin + i] = Math.sin(tb * f[i]!);
      out.data[b * dim + at.cos + i] = Math.cos(tb * f[i]!);
    }
  });
  return out;
}

/** dt of Σ emb(t)·gy. */
export function refTimestepEmbeddingVjp(t: Ref, dim: number, o: RefTimestepEmbeddingOptions, gy: Ref): Ref {
  const half = Math.floor(dim / 2);
  const f = frequencies(half, o);
  const at = columns(half, o);
  const dt = refArray(t.shape);
  t.data.forEach((tb, b) => {
    let s = 0;
    for (let i = 0; i < half; i++) {
      const a = tb * f[i]!;
      s += f[i]! * (gy.data[b * dim + at.sin + i]! * Math.cos(a) - gy.data[b * dim + at.cos + i]! * Math.sin(a));
    }
    dt.data[b] = s;
  });
  return dt;
}
