// Gaussian diffusion on the GPU: schedule tables, the forward process q(x_t | x0), the training
// objectives (ε, x0 or v prediction; Improved DDPM's learned variance with the hybrid loss) and
// the variational-bound terms in bits per dimension.

import {
  add,
  broadcastTo,
  detach,
  discretizedGaussianLogLikelihood,
  fill,
  fmt,
  mean,
  mul,
  mulScalar,
  normalKl,
  reshape,
  slice,
  square,
  sub,
  tensor,
  type Scalar,
  type Tensor,
  timestepCombine,
} from '../../engine/index.ts';
import type { UNet } from '../unet.ts';
import type { SchedulerConventions } from './diffusers-steps.ts';
import type { Objective, VarianceType } from './sampler-step.ts';
import { makeSchedule, type Schedule, type ScheduleOptions } from './schedule.ts';

export interface DiffusionOptions {
  schedule: ScheduleOptions;
  /** What the network predicts. */
  objective: Objective;
  /** Reverse-process variance: fixed β̃_t (small), fixed β_t (large), or learned (needs a model with 2× output channels). */
  variance: VarianceType;
  /** Weight λ of L_vlb = T·E_t[L_t] in the hybrid loss (learned variance only). */
  lambdaVlb: number;
  /**
   * Min-SNR-γ loss weighting (Hang et al. 2023): each sample's MSE is weighted so that its
   * effective x0-space weight is min(SNR_t, γ). 0: off (the plain L_simple).
   */
  minSnrGamma: number;
  /**
   * Sample as diffusers' scheduler does (its timesteps, steps and clip range): set for models that
   * came from diffusers (src/app/diffusers/). Absent: this project's own conventions.
   */
  diffusers?: SchedulerConventions;
}

export const DEFAULT_DIFFUSION: DiffusionOptions = {
  schedule: { type: 'linear', T: 1000 },
  objective: 'eps',
  variance: 'fixed-large',
  lambdaVlb: 0.001,
  minSnrGamma: 0,
};

const LN2 = Math.log(2);

/** Schedule tables as float32 GPU tensors [T] (computed in float64). */
type TableName =
  | 'sqrtAlphasCumprod'
  | 'sqrtOneMinusAlphasCumprod'
  | 'negSqrtOneMinusAlphasCumprod'
  | 'sqrtRecipAlphasCumprod'
  | 'negSqrtRecipm1AlphasCumprod'
  | 'posteriorMeanCoef1'
  | 'posteriorMeanCoef2'
  | 'halfLogVarianceRange'
  | 'midLogVariance'
  | 'posteriorLogVarianceClipped'
  | 'minSnrWeight'
  // L_t in bits: the KL term's weight (0 at t = 0) and the decoder NLL's (−1/ln 2 at t = 0, else 0).
  | 'klBits'
  | 'decoderNllBits'
  | 'zero';

export interface LossTerms {
  /** What is minimised: the weighted mean of `perSample`. */
  loss: Tensor;
  /** Per-sample loss [N] (what importance sampling of t tracks). */
  perSample: Tensor;
  /** The mean squared error of the prediction (L_simple for ε). */
  mse: Tensor;
  /** Per-sample L_t in bits/dim (learned variance only). */
  vlb: Tensor | null;
}

export class GaussianDiffusion {
  readonly schedule: Schedule;
  readonly options: DiffusionOptions;
  private readonly tables = new Map<TableName, Tensor>();

  constructor(options: Partial<DiffusionOptions> = {}) {
    this.options = { ...DEFAULT_DIFFUSION, ...options };
    this.schedule = makeSchedule(this.options.schedule);
  }

  get T(): number {
    return this.schedule.T;
  }

  table(name: TableName): Tensor {
    let t = this.tables.get(name);
    if (!t) {
      const s = this.schedule;
      const values: Record<TableName, (i: number) => number> = {
        sqrtAlphasCumprod: (i) => s.sqrtAlphasCumprod[i]!,
        sqrtOneMinusAlphasCumprod: (i) => s.sqrtOneMinusAlphasCumprod[i]!,
        negSqrtOneMinusAlphasCumprod: (i) => -s.sqrtOneMinusAlphasCumprod[i]!,
        sqrtRecipAlphasCumprod: (i) => s.sqrtRecipAlphasCumprod[i]!,
        negSqrtRecipm1AlphasCumprod: (i) => -s.sqrtRecipm1AlphasCumprod[i]!,
        posteriorMeanCoef1: (i) => s.posteriorMeanCoef1[i]!,
        posteriorMeanCoef2: (i) => s.posteriorMeanCoef2[i]!,
        // log σ² = frac·log β + (1 − frac)·log β̃ with frac = (v + 1)/2 = v·half + mid:
        halfLogVarianceRange: (i) => 0.5 * (Math.log(s.betas[i]!) - s.posteriorLogVarianceClipped[i]!),
        midLogVariance: (i) => 0.5 * (Math.log(s.betas[i]!) + s.posteriorLogVarianceClipped[i]!),
        posteriorLogVarianceClipped: (i) => s.posteriorLogVarianceClipped[i]!,
        minSnrWeight: (i) => this.minSnrWeight(i),
        klBits: (i) => (i === 0 ? 0 : 1 / LN2),
        decoderNllBits: (i) => (i === 0 ? -1 / LN2 : 0),
        zero: () => 0,
      };
      t = tensor(Float32Array.from({ length: this.T }, (_, i) => values[name](i)), [this.T]).keep();
      t.name = name;
      this.tables.set(name, t);
    }
    return t;
  }

  /** Checks integer timesteps in range and returns them as a [N] tensor. */
  timesteps(values: readonly number[]): Tensor {
    for (const t of values) {
      if (!Number.isInteger(t) || t < 0 || t >= this.T) throw new Error(`timestep ${t} is outside 0..${this.T - 1}`);
    }
    return tensor(values, [values.length]);
  }

  /** x_t = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·ε, per sample. */
  qSample(x0: Tensor, t: Tensor, eps: Tensor): Tensor {
    return timestepCombine(x0, eps, this.table('sqrtAlphasCumprod'), this.table('sqrtOneMinusAlphasCumprod'), t);
  }

  /**
   * The forward chain of one image: x_t of x0 [1, C, H, W] at each of `timesteps`, all with the
   * same noise ε [1, C, H, W], as [timesteps.length, C, H, W].
   */
  qSampleChain(x0: Tensor, timesteps: readonly number[], eps: Tensor): Tensor {
    const shape = [timesteps.length, ...x0.shape.slice(1)];
    return this.qSample(broadcastTo(x0, shape), this.timesteps(timesteps), broadcastTo(eps, shape));
  }

  /** x0 recovered from x_t and a predicted ε. */
  predictX0FromEps(xt: Tensor, t: Tensor, eps: Tensor): Tensor {
    return timestepCombine(xt, eps, this.table('sqrtRecipAlphasCumprod'), this.table('negSqrtRecipm1AlphasCumprod'), t);
  }

  /** The model's x0 estimate from its (mean-part) output, by objective. */
  predictX0(xt: Tensor, t: Tensor, out: Tensor): Tensor {
    switch (this.options.objective) {
      case 'eps':
        return this.predictX0FromEps(xt, t, out);
      case 'x0':
        return out;
      case 'v':
        return timestepCombine(xt, out, this.table('sqrtAlphasCumprod'), this.table('negSqrtOneMinusAlphasCumprod'), t);
    }
  }

  /** The regression target for the network's mean-part output. */
  target(x0: Tensor, t: Tensor, eps: Tensor): Tensor {
    switch (this.options.objective) {
      case 'eps':
        return eps;
      case 'x0':
        return x0;
      case 'v': // v = sqrt(ᾱ)·ε − sqrt(1 − ᾱ)·x0
        return timestepCombine(eps, x0, this.table('sqrtAlphasCumprod'), this.table('negSqrtOneMinusAlphasCumprod'), t);
    }
  }

  /** Posterior q(x_{t−1} | x_t, x0) mean. */
  posteriorMean(x0: Tensor, xt: Tensor, t: Tensor): Tensor {
    return timestepCombine(x0, xt, this.table('posteriorMeanCoef1'), this.table('posteriorMeanCoef2'), t);
  }

  /**
   * A table's values at each sample's timestep, [N, 1, 1, 1], looked up on the GPU (so a captured
   * training step needs only the timesteps as its input): 1·table[t] + 1·0, exact.
   */
  private perSample(name: TableName, t: Tensor): Tensor {
    const ones = fill([t.shape[0]!, 1, 1, 1], 1);
    return timestepCombine(ones, ones, this.table(name), this.table('zero'), t);
  }

  /** `perSample` as [N]. */
  private perSampleFlat(name: TableName, t: Tensor): Tensor {
    return reshape(this.perSample(name, t), [t.shape[0]!]);
  }

  /**
   * Min-SNR-γ weights [N] for the objective: min(SNR, γ)/SNR for ε, min(SNR, γ) for x0 and
   * min(SNR, γ)/(SNR + 1) for v, so every objective ends up with x0-space weight min(SNR, γ).
   */
  minSnrWeight(t: number): number {
    const abar = this.schedule.alphasCumprod[t]!;
    const snr = abar / (1 - abar);
    const clipped = Math.min(snr, this.options.minSnrGamma);
    const objective = this.options.objective;
    return objective === 'eps' ? clipped / snr : objective === 'x0' ? clipped : clipped / (snr + 1);
  }


  /** Fixed reverse-process log-variance at t (the DDPM convention: fixed-large uses β̃_1 at t = 0). */
  fixedLogVariance(t: number): number {
    const s = this.schedule;
    if (this.options.variance === 'fixed-small') return s.posteriorLogVarianceClipped[t]!;
    return Math.log(t === 0 ? s.posteriorVariance[1] ?? s.betas[0]! : s.betas[t]!);
  }

  /**
   * L_t per sample in bits/dim: KL(q(x_{t−1}|x_t,x0) ‖ p(x_{t−1}|x_t)) for t > 0 and the
   * discretised decoder NLL for t = 0, for a model mean and log-variance.
   */
  vlbTerms(x0: Tensor, xt: Tensor, t: Tensor, modelMean: Tensor, modelLogVar: Tensor): Tensor {
    const trueMean = this.posteriorMean(x0, xt, t);
    const trueLogVar = this.perSample('posteriorLogVarianceClipped', t);
    const kl = mean(normalKl(trueMean, trueLogVar, modelMean, modelLogVar), [1, 2, 3]);
    const nll = mean(discretizedGaussianLogLikelihood(x0, modelMean, mulScalar(modelLogVar, 0.5)), [1, 2, 3]);
    return add(mul(kl, this.perSampleFlat('klBits', t)), mul(nll, this.perSampleFlat('decoderNllBits', t)));
  }

  /**
   * The training loss of `model` on clean images x0 [N, C, H, W] at timesteps t [N] with noise
   * ε: MSE of the objective, plus λ·T·mean(L_t) with a learned variance (the VLB trains only the
   * variance: the mean is detached, as in Improved DDPM). Everything that depends on t is looked
   * up on the GPU, so the whole loss is a function of its tensors (what a captured step needs).
   * `weights` [N]: importance weights of the samples' timesteps.
   */
  trainingLoss(model: UNet, x0: Tensor, t: Tensor, eps: Tensor, options: { dropoutSeed?: Scalar; weights?: Tensor } = {}): LossTerms {
    const learned = this.options.variance === 'learned';
    if (learned !== model.config.learnedVariance) {
      throw new Error(
        `the diffusion's variance '${this.options.variance}' needs a model ${learned ? 'with' : 'without'} learnedVariance`,
      );
    }
    if (x0.rank !== 4) throw new Error(`trainingLoss: x0 ${fmt(x0.shape)} must be [N, C, H, W]`);
    const C = x0.shape[1]!;
    const xt = this.qSample(x0, t, eps);
    const out = model.forward(xt, t, { seed: options.dropoutSeed ?? 0 });
    const prediction = learned ? slice(out, 1, 0, C) : out;
    const perSampleMse = mean(square(sub(prediction, this.target(x0, t, eps))), [1, 2, 3]);
    let perSample = this.options.minSnrGamma > 0 ? mul(perSampleMse, this.perSampleFlat('minSnrWeight', t)) : perSampleMse;
    let vlb: Tensor | null = null;
    if (learned) {
      const v = slice(out, 1, C, 2 * C);
      const modelMean = this.posteriorMean(this.predictX0(xt, t, detach(prediction)), xt, t);
      const modelLogVar = timestepCombine(v, fill(v.shape, 1), this.table('halfLogVarianceRange'), this.table('midLogVariance'), t);
      vlb = this.vlbTerms(x0, xt, t, modelMean, modelLogVar);
      perSample = add(perSampleMse, mulScalar(vlb, this.options.lambdaVlb * this.T));
    }
    const loss = options.weights ? mean(mul(perSample, options.weights)) : mean(perSample);
    return { loss, perSample, mse: mean(perSampleMse), vlb };
  }

  /** Prior term L_T = KL(q(x_T | x0) ‖ N(0, I)) per sample, bits/dim. */
  priorBpd(x0: Tensor): Tensor {
    const last = this.T - 1;
    const N = x0.shape[0]!;
    const meanT = mulScalar(x0, this.schedule.sqrtAlphasCumprod[last]!);
    const logVarT = fill([N, 1, 1, 1], Math.log(1 - this.schedule.alphasCumprod[last]!));
    return mulScalar(mean(normalKl(meanT, logVarT, fill(x0.shape, 0), fill([N, 1, 1, 1], 0)), [1, 2, 3]), 1 / LN2);
  }

  dispose(): void {
    for (const t of this.tables.values()) t.dispose();
    this.tables.clear();
  }
}
