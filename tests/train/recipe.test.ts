// The training recipe's schedules: learning-rate warm-up and cosine decay, EMA warm-up, and
// Min-SNR-γ weights (plain arithmetic, checked against their definitions).

import { expect, test } from 'vitest';
import { GaussianDiffusion, DEFAULT_DIFFUSION } from '../../src/model/diffusion/gaussian-diffusion.ts';
import { emaDecayAt } from '../../src/model/train/optimizer.ts';
import { DEFAULT_OPTIMIZER, learningRateAt, makeTrainConfig } from '../../src/model/train/trainer.ts';
import { preset } from '../../src/model/config.ts';

test('learning rate: linear warm-up, then cosine decay to minLrRatio·lr, then flat', () => {
  const o = { ...DEFAULT_OPTIMIZER, lr: 1e-3, warmupSteps: 10, decaySteps: 110, minLrRatio: 0.1 };
  expect(learningRateAt(o, 0)).toBeCloseTo(1e-4, 12);
  expect(learningRateAt(o, 9)).toBeCloseTo(1e-3, 12);
  expect(learningRateAt(o, 60)).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5), 12); // halfway through the decay
  expect(learningRateAt(o, 110)).toBeCloseTo(1e-4, 12);
  expect(learningRateAt(o, 500)).toBeCloseTo(1e-4, 12);
  for (let s = 10; s < 110; s++) expect(learningRateAt(o, s + 1)).toBeLessThanOrEqual(learningRateAt(o, s));
  expect(learningRateAt({ ...o, decaySteps: 0 }, 500)).toBe(1e-3);
});

test('EMA warm-up follows min(d, (1 + step) / (10 + step))', () => {
  expect(emaDecayAt(0.999, 0, true)).toBeCloseTo(0.1, 12);
  expect(emaDecayAt(0.999, 90, true)).toBeCloseTo(0.91, 12);
  expect(emaDecayAt(0.999, 1e6, true)).toBe(0.999);
  expect(emaDecayAt(0.999, 0, false)).toBe(0.999);
});

test('Min-SNR-γ gives every objective the x0-space weight min(SNR, γ)', () => {
  const gamma = 5;
  for (const objective of ['eps', 'x0', 'v'] as const) {
    const d = new GaussianDiffusion({ ...DEFAULT_DIFFUSION, objective, minSnrGamma: gamma });
    for (const t of [0, 10, 100, 500, 999]) {
      const abar = d.schedule.alphasCumprod[t]!;
      const snr = abar / (1 - abar);
      // The x0-space MSE weight of each objective's loss: ε-loss = SNR·x0-loss, v-loss = (SNR + 1)·x0-loss.
      const x0Weight = objective === 'eps' ? snr : objective === 'v' ? snr + 1 : 1;
      expect(d.minSnrWeight(t) * x0Weight).toBeCloseTo(Math.min(snr, gamma), 9);
    }
  }
});

test('recipe settings are validated', () => {
  const model = preset('tiny-fashion');
  expect(makeTrainConfig({ model }).emaWarmup).toBe(true);
  expect(() => makeTrainConfig({ model, diffusion: { minSnrGamma: -1 } })).toThrow(/minSnrGamma must be ≥ 0/);
  expect(() => makeTrainConfig({ model, optimizer: { decaySteps: 1.5 } })).toThrow(/decaySteps must be an integer/);
  expect(() => makeTrainConfig({ model, optimizer: { minLrRatio: 2 } })).toThrow(/minLrRatio must be in \[0, 1\]/);
});
