// Check cases for samplerStep (src/engine/ops/sampler-step.ts): the fused GPU step against the
// float64 step fed the same noise, as x_prev and the predicted x0 end to end. DDPM-like and
// DDIM-like coefficients, every objective, clipping, a learned variance, the last (noiseless)
// step, and noise from the counter-based stream (redrawn on the CPU with Rng). No gradient.

import { concat } from '../ops/layout.ts';
import { samplerStep, type SamplerObjective, type SamplerStepCoefficients } from '../ops/sampler-step.ts';
import { Rng } from '../random.ts';
import { refArray } from '../reference/ndarray.ts';
import { refSamplerStep } from '../reference/sampler-step.ts';
import type { CheckCase, OpCheck } from './runner.ts';

const DDPM: SamplerStepCoefficients = {
  sqrtAlphaBar: 0.8,
  sqrtOneMinusAlphaBar: 0.6,
  a: 0.35,
  b: 0.9,
  c: 0,
  sigma: 0.12,
  logBeta: Math.log(0.02),
  logBetaTilde: Math.log(0.015),
  addNoise: true,
};
const DDIM: SamplerStepCoefficients = { ...DDPM, a: 0.85, b: 0, c: 0.5, sigma: 0.2, logBeta: 0, logBetaTilde: 0 };

interface StepCase {
  name: string;
  k: SamplerStepCoefficients;
  objective: SamplerObjective;
  clipX0?: boolean;
  learnedVariance?: boolean;
  /** Noise from this stream instead of an input tensor. */
  stream?: { seed: number; counter: number };
}

const STEP_CASES: StepCase[] = [
  { name: 'DDPM eps', k: DDPM, objective: 'eps' },
  { name: 'DDPM eps, clipped x0', k: DDPM, objective: 'eps', clipX0: true },
  { name: 'DDPM x0', k: DDPM, objective: 'x0' },
  { name: 'DDIM v, clipped x0', k: DDIM, objective: 'v', clipX0: true },
  { name: 'DDPM eps, learned variance', k: DDPM, objective: 'eps', learnedVariance: true },
  { name: 'DDPM last step (no noise)', k: { ...DDPM, addNoise: false }, objective: 'eps', clipX0: true },
  { name: 'DDIM eps, stream noise', k: DDIM, objective: 'eps', stream: { seed: 12345, counter: 77 } },
];

const SHAPE = [2, 3, 5, 5];
const SIZE = SHAPE.reduce((a, b) => a * b, 1);

/** Normals i of the stream, from counters counter + 2i and + 2i + 1, as the kernel draws them. */
function streamNoise({ seed, counter }: { seed: number; counter: number }): number[] {
  return Array.from({ length: SIZE }, (_, i) => new Rng(seed, counter + 2 * i).normal());
}

const cases: CheckCase[] = STEP_CASES.map(({ name, k, objective, clipX0 = false, learnedVariance = false, stream }) => {
  const modelShape = [SHAPE[0]!, (learnedVariance ? 2 : 1) * SHAPE[1]!, SHAPE[2]!, SHAPE[3]!];
  const options = { objective, clipX0, learnedVariance };
  return {
    name,
    inputs: [
      { name: 'xt', shape: SHAPE },
      { name: 'modelOut', shape: modelShape },
      ...(stream ? [] : [{ name: 'noise', shape: SHAPE }]),
    ],
    gpu: ([xt, modelOut, noise]) => {
      const r = samplerStep(xt!, modelOut!, k, { ...options, noise: stream ?? noise! });
      return concat([r.xPrev, r.x0], 0);
    },
    ref: ([xt, modelOut, noise]) => {
      const z = stream ? refArray(SHAPE, streamNoise(stream)) : noise!;
      const r = refSamplerStep(xt!, modelOut!, z, k, options);
      return refArray([2 * SHAPE[0]!, ...SHAPE.slice(1)], [...r.xPrev.data, ...r.x0.data]);
    },
  };
});

export const samplerStepChecks: OpCheck[] = [{ op: 'samplerStep', cases }];
