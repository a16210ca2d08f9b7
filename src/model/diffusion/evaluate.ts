// The variational bound on test images, in bits per dimension, term by term:
// L_T (prior), L_{t−1} for t = 1..T−1 (Gaussian KLs) and L_0 (discretised decoder NLL).
// Each term needs one network evaluation per image. With `terms` < T − 1 only that many t ≥ 1 are
// evaluated, spaced geometrically (L_t falls by orders of magnitude from t = 1), and each stands
// for the timesteps nearest to it (an estimate, reported so); L_0 and L_T are always exact.

import {
  clamp,
  deriveSeed,
  fill,
  noGrad,
  randomNormal,
  scope,
  slice,
  tensor,
  type Tensor,
  timestepCombine,
} from '../../engine/index.ts';
import type { Dataset } from '../train/trainer.ts';
import type { UNet } from '../unet.ts';
import { ReplayedForward, type Execution } from '../replayed-forward.ts';
import type { GaussianDiffusion } from './gaussian-diffusion.ts';

export interface BoundReport {
  /** Total bound (an estimate when only some KL terms were evaluated), bits/dim. */
  bpd: number;
  prior: number;
  decoder: number;
  /** Mean L_t over the test images at each evaluated t, bits/dim. */
  terms: { t: number; bpd: number; weight: number }[];
  images: number;
  estimate: boolean;
}

/**
 * `count` timesteps in 1..T−1, geometrically spaced, each with the number of timesteps it stands
 * for (the integers closer to it than to its neighbours); all of them when count ≥ T − 1.
 */
export function boundTimesteps(T: number, count: number): { t: number; weight: number }[] {
  if (count >= T - 1) return Array.from({ length: T - 1 }, (_, i) => ({ t: i + 1, weight: 1 }));
  const ts = [...new Set(Array.from({ length: count }, (_, i) => Math.round((T - 1) ** (i / Math.max(1, count - 1)))))];
  return ts.map((t, i) => {
    const lo = i === 0 ? 1 : Math.floor((ts[i - 1]! + t) / 2) + 1;
    const hi = i === ts.length - 1 ? T - 1 : Math.floor((t + ts[i + 1]!) / 2);
    return { t, weight: hi - lo + 1 };
  });
}

/**
 * L_t per sample (bits/dim) at one timestep for a batch x0, with x0 predictions clipped (DDPM's
 * eval); the network runs through `forward` (the model's own by default, or a replayed one).
 */
export function boundTermsAt(
  model: UNet,
  diffusion: GaussianDiffusion,
  x0: Tensor,
  t: number,
  seed: number,
  forward: (x: Tensor, t: Tensor) => Tensor = (x, tt) => model.forward(x, tt),
): Tensor {
  const N = x0.shape[0]!;
  const C = x0.shape[1]!;
  const tValues = new Array<number>(N).fill(t);
  const tt = tensor(tValues);
  const eps = randomNormal(x0.shape, { seed });
  const xt = diffusion.qSample(x0, tt, eps);
  const out = forward(xt, tt);
  const learned = diffusion.options.variance === 'learned';
  const prediction = learned ? slice(out, 1, 0, C) : out;
  const x0Pred = clamp(diffusion.predictX0(xt, tt, prediction), -1, 1);
  const modelMean = diffusion.posteriorMean(x0Pred, xt, tt);
  const logVar = learned
    ? timestepCombine(slice(out, 1, C, 2 * C), fill([N, C, ...x0.shape.slice(2)], 1), diffusion.table('halfLogVarianceRange'), diffusion.table('midLogVariance'), tt)
    : fill([N, 1, 1, 1], diffusion.fixedLogVariance(t));
  return diffusion.vlbTerms(x0, xt, tt, modelMean, logVar);
}

export async function evaluateBound(
  model: UNet,
  diffusion: GaussianDiffusion,
  data: Dataset,
  options: { batch: number; terms: number; seed: number; execution?: Execution },
): Promise<BoundReport> {
  // Every timestep of every batch runs the same network forward: captured once, replayed after.
  const weights = model.parameters().map((p) => p.value);
  const network = new ReplayedForward((x, t) => model.forward(x, t), options.execution, weights);
  try {
    return await boundOf(model, diffusion, data, options, network);
  } finally {
    network.dispose();
  }
}

async function boundOf(
  model: UNet,
  diffusion: GaussianDiffusion,
  data: Dataset,
  options: { batch: number; terms: number; seed: number },
  network: ReplayedForward,
): Promise<BoundReport> {
  const T = diffusion.T;
  const picked = [{ t: 0, weight: 1 }, ...boundTimesteps(T, Math.max(1, Math.floor(options.terms)))];
  const ts = picked.map((p) => p.t);
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
      const seed = deriveSeed(options.seed, 'bound', start, t);
      const terms = noGrad(() => scope(() => boundTermsAt(model, diffusion, x0, t, seed, (x, tt) => network.forward(x, tt))));
      sums.set(t, sums.get(t)! + (await terms.read()).reduce((a, b) => a + b, 0));
      terms.dispose();
    }
    x0.dispose();
  }
  const terms = picked.map(({ t, weight }) => ({ t, weight, bpd: sums.get(t)! / data.count }));
  const bpd = prior / data.count + terms.reduce((s, x) => s + x.weight * x.bpd, 0);
  return { bpd, prior: prior / data.count, decoder: terms[0]!.bpd, terms, images: data.count, estimate: picked.length < T };
}
