// The test-set bound: the prior term against its closed form, and the total as the sum of its
// parts (decoder + every L_t + prior), for a small model and a short schedule.

import { expect, test } from 'vitest';
import { boundTimesteps, type BoundReport } from '../../src/model/diffusion/evaluate.ts';
import { makeSchedule } from '../../src/model/diffusion/schedule.ts';
import { inPage } from '../setup/page.ts';

test('boundTimesteps: geometric picks whose weights cover 1..T−1 exactly once', () => {
  for (const [T, k] of [[1000, 50], [1000, 10], [20, 19], [4000, 7]] as const) {
    const picks = boundTimesteps(T, k);
    expect(picks.reduce((a, p) => a + p.weight, 0)).toBe(T - 1);
    expect(picks[0]!.t).toBe(1);
    expect(picks[picks.length - 1]!.t).toBe(T - 1);
  }
});

test('evaluateBound: prior in closed form, total = prior + decoder + Σ L_t, all terms finite and ≥ 0', async () => {
  const x0 = Array.from({ length: 2 * 8 * 8 }, (_, i) => Math.round(Math.sin(i) * 127.5) / 127.5);
  const report: BoundReport = await inPage(async (images) => {
    const load = (window as any).ddpmHarness.importModule;
    const { UNet } = await load('/src/model/unet.ts');
    const { GaussianDiffusion } = await load('/src/model/diffusion/gaussian-diffusion.ts');
    const { evaluateBound } = await load('/src/model/diffusion/evaluate.ts');
    const model = new UNet({
      imageSize: 8, inChannels: 1, outChannels: 1, baseChannels: 8, channelMultipliers: [1, 2],
      resBlocksPerLevel: 1, attentionResolutions: [], normGroups: 4, normEps: 1e-5,
    }).build(1).eval();
    const diffusion = new GaussianDiffusion({ schedule: { type: 'cosine', T: 20 } });
    const r = await evaluateBound(model, diffusion, { images: Float32Array.from(images), count: 2, shape: [1, 8, 8] }, { batch: 2, terms: 19, seed: 3 });
    model.dispose();
    diffusion.dispose();
    return r;
  }, x0);
  const s = makeSchedule({ type: 'cosine', T: 20 });
  const aT = s.alphasCumprod[19]!;
  // KL(N(√ᾱ x0, 1 − ᾱ) ‖ N(0, 1)) per dimension, averaged, in bits.
  const prior = x0.reduce((acc, x) => acc + 0.5 * (-1 - Math.log(1 - aT) + (1 - aT) + aT * x * x), 0) / x0.length / Math.log(2);
  expect(report.prior).toBeCloseTo(prior, 5);
  expect(report.terms).toHaveLength(20);
  expect(report.estimate).toBe(false);
  for (const term of report.terms) {
    expect(Number.isFinite(term.bpd)).toBe(true);
    expect(term.bpd).toBeGreaterThanOrEqual(0);
  }
  const sum = report.prior + report.terms.reduce((a, t) => a + t.bpd * t.weight, 0);
  expect(report.bpd).toBeCloseTo(sum, 6);
  expect(report.decoder).toBe(report.terms[0]!.bpd);
});
