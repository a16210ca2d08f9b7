// Float64 reference for group normalisation (biased variance, affine, optional fused SiLU) and
// its vector-Jacobian product.

import { refArray, type Ref } from './ndarray.ts';

export interface RefGroupNormOptions {
  groups: number;
  eps?: number;
  silu?: boolean;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Per (n, g): the group's element indices, mean and 1/sqrt(var + eps), from two passes. */
function* groupsOf(x: Ref, groups: number, eps: number): Generator<{ at: number[]; channel: number[]; mean: number; rstd: number }> {
  const [batch, channels] = x.shape as [number, number];
  const spatial = x.data.length / Math.max(1, batch * channels);
  const perGroup = channels / groups;
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < groups; g++) {
      const at: number[] = [];
      const channel: number[] = [];
      for (let c = g * perGroup; c < (g + 1) * perGroup; c++) {
        for (let s = 0; s < spatial; s++) {
          at.push((n * channels + c) * spatial + s);
          channel.push(c);
        }
      }
      const mean = at.reduce((acc, i) => acc + x.data[i]!, 0) / at.length;
      const variance = at.reduce((acc, i) => acc + (x.data[i]! - mean) ** 2, 0) / at.length;
      yield { at, channel, mean, rstd: 1 / Math.sqrt(variance + eps) };
    }
  }
}

export function refGroupNorm(x: Ref, gamma: Ref, beta: Ref, { groups, eps = 1e-5, silu = false }: RefGroupNormOptions): Ref {
  const out = refArray(x.shape);
  for (const { at, channel, mean, rstd } of groupsOf(x, groups, eps)) {
    at.forEach((i, k) => {
      const c = channel[k]!;
      const z = (x.data[i]! - mean) * rstd * gamma.data[c]! + beta.data[c]!;
      out.data[i] = silu ? z * sigmoid(z) : z;
    });
  }
  return out;
}

/** [dx, dgamma, dbeta] of Σ refGroupNorm(x, gamma, beta)·gy. */
export function refGroupNormVjp(
  x: Ref,
  gamma: Ref,
  beta: Ref,
  gy: Ref,
  { groups, eps = 1e-5, silu = false }: RefGroupNormOptions,
): [Ref, Ref, Ref] {
  const dx = refArray(x.shape);
  const dgamma = refArray(gamma.shape);
  const dbeta = refArray(beta.shape);
  for (const { at, channel, mean, rstd } of groupsOf(x, groups, eps)) {
    const xhat = at.map((i) => (x.data[i]! - mean) * rstd);
    // Gradient with respect to the affine output z (through the SiLU when fused).
    const dz = at.map((i, k) => {
      const c = channel[k]!;
      if (!silu) return gy.data[i]!;
      const z = xhat[k]! * gamma.data[c]! + beta.data[c]!;
      const s = sigmoid(z);
      return gy.data[i]! * s * (1 + z * (1 - s));
    });
    const dxhat = dz.map((d, k) => d * gamma.data[channel[k]!]!);
    let meanDxhat = 0;
    let meanDxhatXhat = 0;
    at.forEach((_, k) => {
      const c = channel[k]!;
      dgamma.data[c] += dz[k]! * xhat[k]!;
      dbeta.data[c] += dz[k]!;
      meanDxhat += dxhat[k]! / at.length;
      meanDxhatXhat += (dxhat[k]! * xhat[k]!) / at.length;
    });
    at.forEach((i, k) => {
      dx.data[i] = rstd * (dxhat[k]! - meanDxhat - xhat[k]! * meanDxhatXhat);
    });
  }
  return [dx, dgamma, dbeta];
}
