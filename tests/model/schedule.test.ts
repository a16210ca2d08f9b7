// Schedules against closed forms and against the float64 values of the diffusers fixture.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { makeSchedule, SCHEDULE_TYPES } from '../../src/model/diffusion/schedule.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/torch-reference/schedules.json', import.meta.url), 'utf8'),
) as Record<string, Record<string, number[]>>;

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0): number => {
  let worst = 0;
  for (let i = from; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-300));
  return worst;
};

describe('schedules', () => {
  for (const type of ['linear', 'cosine'] as const) {
    test(`${type}, T=1000, matches the float64 diffusers-convention fixture`, () => {
      const s = makeSchedule({ type, T: 1000 });
      const f = fixture[type]!;
      expect(maxRel(s.betas, f.betas_f64!)).toBeLessThan(1e-12);
      expect(maxRel(s.alphasCumprod, f.alphas_cumprod_f64!)).toBeLessThan(1e-11);
      // diffusers recomputes β from the ᾱ ratio and clamps β̃_0 to 1e-20: compare from t = 1.
      expect(maxRel(s.posteriorVariance, f.posterior_variance_fixed_small_f64!, 1)).toBeLessThan(1e-9);
      expect(maxRel(s.posteriorMeanCoef1, f.posterior_mean_coef1_f64!)).toBeLessThan(1e-9);
      expect(maxRel(s.posteriorMeanCoef2, f.posterior_mean_coef2_f64!)).toBeLessThan(1e-9);
    });
  }

  test('linear: β_t = 1e-4 + (0.02 − 1e-4)·t/999 and the paper-quoted constants', () => {
    const s = makeSchedule({ type: 'linear', T: 1000 });
    for (const t of [0, 1, 500, 999]) expect(s.betas[t]).toBeCloseTo(1e-4 + ((0.02 - 1e-4) * t) / 999, 15);
    expect(s.alphasCumprod[999]).toBeCloseTo(4.04e-5, 6);
    expect(s.alphasCumprod[500]).toBeCloseTo(0.0778, 4);
  });

  test('cosine: ᾱ follows cos² closely and the last β is clipped at 0.999', () => {
    const s = makeSchedule({ type: 'cosine', T: 1000 });
    const f = (t: number) => Math.cos(((t / 1000 + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 100, 500, 900]) expect(s.alphasCumprod[t]! / (f(t + 1) / f(0))).toBeCloseTo(1, 10);
    expect(s.betas[999]).toBe(0.999);
    expect(s.betas[998]).toBeLessThan(0.999);
  });

  for (const type of SCHEDULE_TYPES) {
    test(`${type}: derived quantities obey their identities for several T`, () => {
      for (const T of [1, 10, 1000, 4000]) {
        const s = makeSchedule({ type, T });
        let cum = 1;
        for (let t = 0; t < T; t++) {
          cum *= 1 - s.betas[t]!;
          expect(s.alphasCumprod[t]).toBeCloseTo(cum, 14);
          expect(s.sqrtAlphasCumprod[t]! ** 2 + s.sqrtOneMinusAlphasCumprod[t]! ** 2).toBeCloseTo(1, 14);
          expect(s.logSnr[t]).toBeCloseTo(Math.log(cum / (1 - cum)), 8);
          // Posterior mean of x0 = x_t = x must be x (coef1 + coef2·sqrt(ᾱ_t)/sqrt(ᾱ_t)... consistency):
          // with x_t = sqrt(ᾱ_t) x0 (no noise), the mean is sqrt(ᾱ_{t−1}) x0.
          const mean = s.posteriorMeanCoef1[t]! + s.posteriorMeanCoef2[t]! * s.sqrtAlphasCumprod[t]!;
          expect(mean).toBeCloseTo(Math.sqrt(s.alphasCumprodPrev[t]!), 8);
          if (t > 0) expect(s.posteriorVariance[t]).toBeLessThanOrEqual(s.betas[t]! * (1 + 1e-12));
        }
        expect(s.posteriorVariance[0]).toBe(0);
        if (T > 1) expect(s.posteriorLogVarianceClipped[0]).toBe(Math.log(s.posteriorVariance[1]!));
        for (let t = 1; t < T; t++) expect(s.logSnr[t]).toBeLessThan(s.logSnr[t - 1]!);
      }
    });
  }

  test('scaleWithT keeps the total noise of T = 1000 (Improved DDPM)', () => {
    const s = makeSchedule({ type: 'linear', T: 250, scaleWithT: true });
    expect(s.betas[0]).toBeCloseTo(4e-4, 15);
    expect(s.betas[249]).toBeCloseTo(0.08, 15);
    expect(Math.abs(Math.log(s.alphasCumprod[249]!) / Math.log(makeSchedule({ type: 'linear', T: 1000 }).alphasCumprod[999]!) - 1)).toBeLessThan(0.05);
  });

  test('bad options are refused with the reason', () => {
    expect(() => makeSchedule({ type: 'nope' as 'linear', T: 10 })).toThrow("schedule: unknown type 'nope'");
    expect(() => makeSchedule({ type: 'linear', T: 0 })).toThrow('schedule: T must be a positive integer, got 0');
    expect(() => makeSchedule({ type: 'linear', T: 10, scaleWithT: true })).toThrow(/outside \(0, 1\)/);
  });
});
