// How training draws timesteps: uniformly, or by importance (Improved DDPM's
// LossSecondMomentResampler: p_t ∝ sqrt(E[L_t²]) over the last 10 losses seen at each t, mixed
// with a little uniform mass, and each loss weighted by 1/(T·p_t) so the estimate stays unbiased).

import { Rng } from '../../engine/index.ts';

export interface TimestepDraw {
  t: number[];
  /** Loss weights 1/(T·p_t) (all 1 when uniform). */
  weights: number[];
}

export interface TimestepSamplerState {
  kind: 'uniform' | 'importance';
  history?: number[][];
}

export class TimestepSampler {
  private readonly history: number[][];
  static readonly HISTORY = 10;
  static readonly UNIFORM_MASS = 0.001;

  constructor(
    readonly T: number,
    readonly kind: 'uniform' | 'importance',
    state?: TimestepSamplerState,
  ) {
    this.history = state?.history?.map((h) => [...h]) ?? Array.from({ length: T }, () => []);
    if (this.history.length !== T) throw new Error(`timestep sampler state has ${this.history.length} timesteps, expected ${T}`);
  }

  /** Whether every t has a full loss history (until then, sampling stays uniform). */
  get warm(): boolean {
    return this.history.every((h) => h.length >= TimestepSampler.HISTORY);
  }

  probabilities(): Float64Array {
    const p = new Float64Array(this.T).fill(1 / this.T);
    if (this.kind === 'uniform' || !this.warm) return p;
    let total = 0;
    for (let t = 0; t < this.T; t++) {
      const h = this.history[t]!;
      p[t] = Math.sqrt(h.reduce((s, l) => s + l * l, 0) / h.length);
      total += p[t]!;
    }
    for (let t = 0; t < this.T; t++) {
      p[t] = (1 - TimestepSampler.UNIFORM_MASS) * (p[t]! / total) + TimestepSampler.UNIFORM_MASS / this.T;
    }
    return p;
  }

  /** `n` timesteps drawn from stream `seed` (one stream per training step keeps runs repeatable). */
  draw(n: number, seed: number): TimestepDraw {
    const rng = new Rng(seed);
    if (this.kind === 'uniform' || !this.warm) {
      return { t: Array.from({ length: n }, () => rng.int(this.T)), weights: new Array<number>(n).fill(1) };
    }
    const p = this.probabilities();
    const cdf = new Float64Array(this.T);
    p.reduce((acc, v, i) => (cdf[i] = acc + v), 0);
    const t = Array.from({ length: n }, () => {
      const u = rng.uniform() * cdf[this.T - 1]!;
      let lo = 0;
      let hi = this.T - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    });
    return { t, weights: t.map((ti) => 1 / (this.T * p[ti]!)) };
  }

  /** Records per-sample losses seen at timesteps t. */
  update(t: readonly number[], losses: ArrayLike<number>): void {
    t.forEach((ti, i) => {
      const h = this.history[ti]!;
      h.push(losses[i]!);
      if (h.length > TimestepSampler.HISTORY) h.shift();
    });
  }

  state(): TimestepSamplerState {
    return this.kind === 'uniform' ? { kind: 'uniform' } : { kind: 'importance', history: this.history.map((h) => [...h]) };
  }
}
