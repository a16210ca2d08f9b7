// Noise schedules and every constant derived from them, in float64 (as DDPM's code does:
// "computations here in float64 for accuracy"). Index t ∈ {0..T−1} is the paper's t+1.

export type ScheduleType = 'linear' | 'cosine' | 'quadratic' | 'sigmoid';
export const SCHEDULE_TYPES: readonly ScheduleType[] = ['linear', 'cosine', 'quadratic', 'sigmoid'];

export interface ScheduleOptions {
  type: ScheduleType;
  T: number;
  /**
   * β_0 … β_{T−1} given explicitly (diffusers' `trained_betas`): when set they take precedence over
   * the formula of `type`, as in diffusers, where `beta_schedule` stays in the config beside them.
   */
  betas?: number[] | null;
  /** β at t = 0 and t = T−1 for linear/quadratic/sigmoid. */
  betaStart?: number;
  betaEnd?: number;
  /**
   * Improved DDPM's rule: multiply betaStart/betaEnd by 1000/T so any T adds the same total
   * noise as T = 1000 (needs T ≥ 21 with the defaults). Off: the same β range for any T (diffusers).
   */
  scaleWithT?: boolean;
  /** Cosine offset s (Nichol & Dhariwal 2021). */
  cosineS?: number;
  /** Largest β the cosine schedule may take. */
  maxBeta?: number;
}

export interface Schedule {
  options: Required<ScheduleOptions>;
  T: number;
  betas: Float64Array;
  alphas: Float64Array;
  alphasCumprod: Float64Array;
  /** ᾱ_{t−1}, with ᾱ_{−1} = 1. */
  alphasCumprodPrev: Float64Array;
  sqrtAlphasCumprod: Float64Array;
  sqrtOneMinusAlphasCumprod: Float64Array;
  /** 1/sqrt(ᾱ_t) and sqrt(1/ᾱ_t − 1): x0 = a·x_t − b·ε. */
  sqrtRecipAlphasCumprod: Float64Array;
  sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t); 0 at t = 0. */
  posteriorVariance: Float64Array;
  /** log β̃_t with t = 0 replaced by β̃_1 (β̃_0 = 0 has no logarithm). */
  posteriorLogVarianceClipped: Float64Array;
  /** Posterior mean = coef1·x0 + coef2·x_t. */
  posteriorMeanCoef1: Float64Array;
  posteriorMeanCoef2: Float64Array;
  /** log(ᾱ_t / (1 − ᾱ_t)). */
  logSnr: Float64Array;
}

function betasFor(o: Required<ScheduleOptions>): Float64Array {
  const { T } = o;
  if (o.betas) {
    if (!Array.isArray(o.betas) || o.betas.length !== T) {
      throw new Error(`schedule: explicit betas must be a list of T = ${T} numbers, got ${Array.isArray(o.betas) ? o.betas.length : typeof o.betas}`);
    }
    return Float64Array.from(o.betas);
  }
  const scale = o.scaleWithT ? 1000 / T : 1;
  const b0 = scale * o.betaStart;
  const b1 = scale * o.betaEnd;
  const lin = (a: number, b: number, i: number) => (T === 1 ? a : a + ((b - a) * i) / (T - 1));
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    switch (o.type) {
      case 'linear':
        betas[i] = lin(b0, b1, i);
        break;
      case 'quadratic':
        betas[i] = lin(Math.sqrt(b0), Math.sqrt(b1), i) ** 2;
        break;
      case 'sigmoid':
        betas[i] = (b1 - b0) / (1 + Math.exp(-lin(-6, 6, i))) + b0;
        break;
      case 'cosine': {
        const abar = (u: number) => Math.cos(((u + o.cosineS) / (1 + o.cosineS)) * (Math.PI / 2)) ** 2;
        betas[i] = Math.min(1 - abar((i + 1) / T) / abar(i / T), o.maxBeta);
        break;
      }
    }
  }
  return betas;
}

export function makeSchedule(options: ScheduleOptions): Schedule {
  const o: Required<ScheduleOptions> = {
    betaStart: 1e-4,
    betaEnd: 0.02,
    cosineS: 0.008,
    maxBeta: 0.999,
    scaleWithT: false,
    betas: null,
    ...options,
  };
  if (!SCHEDULE_TYPES.includes(o.type)) {
    throw new Error(`schedule: unknown type '${o.type}'; use one of ${SCHEDULE_TYPES.join(', ')}`);
  }
  if (!Number.isInteger(o.T) || o.T < 1) throw new Error(`schedule: T must be a positive integer, got ${o.T}`);
  const T = o.T;
  const betas = betasFor(o);
  for (let i = 0; i < T; i++) {
    if (!(betas[i]! > 0 && betas[i]! < 1)) {
      throw new Error(`schedule: β_${i} = ${betas[i]} is outside (0, 1); check betaStart/betaEnd for T = ${T}`);
    }
  }
  const f = () => new Float64Array(T);
  const s: Schedule = {
    options: o,
    T,
    betas,
    alphas: f(),
    alphasCumprod: f(),
    alphasCumprodPrev: f(),
    sqrtAlphasCumprod: f(),
    sqrtOneMinusAlphasCumprod: f(),
    sqrtRecipAlphasCumprod: f(),
    sqrtRecipm1AlphasCumprod: f(),
    posteriorVariance: f(),
    posteriorLogVarianceClipped: f(),
    posteriorMeanCoef1: f(),
    posteriorMeanCoef2: f(),
    logSnr: f(),
  };
  let cum = 1;
  for (let t = 0; t < T; t++) {
    const beta = betas[t]!;
    const alpha = 1 - beta;
    const prev = cum;
    cum *= alpha;
    s.alphas[t] = alpha;
    s.alphasCumprod[t] = cum;
    s.alphasCumprodPrev[t] = prev;
    s.sqrtAlphasCumprod[t] = Math.sqrt(cum);
    s.sqrtOneMinusAlphasCumprod[t] = Math.sqrt(1 - cum);
    s.sqrtRecipAlphasCumprod[t] = Math.sqrt(1 / cum);
    s.sqrtRecipm1AlphasCumprod[t] = Math.sqrt(1 / cum - 1);
    s.posteriorVariance[t] = (beta * (1 - prev)) / (1 - cum);
    s.posteriorMeanCoef1[t] = (beta * Math.sqrt(prev)) / (1 - cum);
    s.posteriorMeanCoef2[t] = ((1 - prev) * Math.sqrt(alpha)) / (1 - cum);
    s.logSnr[t] = Math.log(cum) - Math.log1p(-cum);
  }
  for (let t = 0; t < T; t++) {
    s.posteriorLogVarianceClipped[t] = Math.log(T > 1 && t === 0 ? s.posteriorVariance[1]! : s.posteriorVariance[t]!);
  }
  return s;
}

/** The JSON shape `ddpm schedule --json` prints (diffusers-style keys). */
export function scheduleJson(s: Schedule): Record<string, unknown> {
  const arr = (a: Float64Array) => Array.from(a);
  return {
    type: s.options.type,
    T: s.T,
    options: s.options,
    betas: arr(s.betas),
    alphas_cumprod: arr(s.alphasCumprod),
    log_snr: arr(s.logSnr),
    posterior_variance: arr(s.posteriorVariance),
    posterior_log_variance_clipped: arr(s.posteriorLogVarianceClipped),
    posterior_mean_coef1: arr(s.posteriorMeanCoef1),
    posterior_mean_coef2: arr(s.posteriorMeanCoef2),
  };
}
