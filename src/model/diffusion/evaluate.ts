// The variational bound on test images, in bits per dimension, term by term:
// L_T (prior), L_{t−1} for t = 1..T−1 (Gaussian KLs) and L_0 (discretised decoder NLL).
// Each term needs one network evaluation per image; `tStride` > 1 evaluates every tStride-th
// t ≥ 1 and scales their sum by the number of terms it stands for (an estimate, reported so).

import { noGrad } from '../../engine/autograd.ts';
import { clamp } from '../../engine/ops/elementwise.ts';
import { slice } from '../../engine/ops/layout.ts';
import { randomNormal } from '../../engine/ops/random.ts';
import { timestepCombine } from '../../engine/ops/timestep-combine.ts';
import { fill } from '../../engine/ops/fill.ts';
import { scope, tensor, type Tensor } from '../../engine/tensor.ts';
import type { Dataset } from '../train/trainer.ts';
import type { UNet } from '../unet.ts';
import type { GaussianDiffusion } from './gaussian-diffusion.ts';

export interface BoundReport {
  /** Total bound (estimate when tStride > 1), bits/dim. */
  bpd: number;
  prior: number;
  decoder: number;
  /** Mean L_t over the test images at each evaluated t, bits/dim. */
  terms: { t: number; bpd: number }[];
  images: number;
  tStride: number;
  estimate: boolean;
}

/** L_t per sample (bits/dim) at one timestep for a batch x0, with x0 predictions clipped (DDPM's eval). */
export function boundTermsAt(model: UNet, diffusion: GaussianDiffusion, x0: Tensor, t: number, seed: number): Tensor {
  const N = x0.shape[0]!;
  const C = x0.shape[1]!;
  const tValues = new Array<number>(N).fill(t);
  const tt = tensor(tValues);
  const eps = randomNormal(x0.shape, { seed });
  const xt = diffusion.qSample(x0, tt, eps);
  const out = model.forward(xt, tt);
  const learned = diffusion.options.variance === 'learned';
  const prediction = learned ? slice(out, 1, 0, C) : out;
  const x0Pred = clamp(diffusion.predictX0(xt, tt, prediction), -1, 1);
  const modelMean = diffusion.posteriorMean(x0Pred, xt, tt);
  const logVar = learned
    ? timestepCombine(slice(out, 1, C, 2 * C), fill([N, C, ...x0.shape.slice(2)], 1), diffusion.table('halfLogVarianceRange'), diffusion.table('midLogVariance'), tt)
    : fill([N, 1, 1, 1], diffusion.fixedLogVariance(t));
  return diffusion.vlbTerms(x0, xt, tt, tValues, modelMean, logVar);
}

export async function evaluateBound(
  model: UNet,
  diffusion: GaussianDiffusion,
  data: Dataset,
  options: { batch: number; tStride: number; seed: number },
): Promise<BoundReport> {
  const T = diffusion.T;
  const stride = Math.max(1, Math.floor(options.tStride));
  const ts = [0, ...Array.from({ length: T - 1 }, (_, i) => i + 1).filter((t) => (t - 1) % stride === 0)];
  const sums = new Map<number, number>(ts.map((t) => [t, 0]));
  let prior = 0;
  const [C, H, W] = data.shape;
  const per = C * H * W;
  for (let start = 0; start < data.count; start += options.batch) {
    const n = Math.min(options.batch, data.count - start);
    const x0 = tensor(data.images.subarray(start * per, (start + n) * per), [n, C, H, W]);
    const p = noGrad(() => scope(() => diffusion.priorBpd(x0)));
    prior += (await p.read()).reduce((a, b) => a + b, 0);
    p.dispose();
    for (const t of ts) {
      const terms = noGrad(() => scope(() => boundTermsAt(model, diffusion, x0, t, (options.seed ^ Math.imul(start + 1, 0x9e3779b1) ^ Math.imul(t + 1, 0x85ebca77)) >>> 0)));
      sums.set(t, sums.get(t)! + (await terms.read()).reduce((a, b) => a + b, 0));
      terms.dispose();
    }
    x0.dispose();
  }
  const terms = ts.map((t) => ({ t, bpd: sums.get(t)! / data.count }));
  const decoder = terms[0]!.bpd;
  const middle = terms.slice(1);
  const scale = middle.length > 0 ? (T - 1) / middle.length : 0;
  const bpd = prior / data.count + decoder + scale * middle.reduce((s, x) => s + x.bpd, 0);
  return { bpd, prior: prior / data.count, decoder, terms, images: data.count, tStride: stride, estimate: stride > 1 };
}
