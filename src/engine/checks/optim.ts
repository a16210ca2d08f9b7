// Check cases for the optimiser ops (src/engine/ops/optim.ts): one Adam/AdamW step and one EMA
// update on the GPU against their float64 references. They have no gradient, so only the
// forward is compared. Learning rates are large so the update, not the old weight, dominates.

import { concat } from '../ops/layout.ts';
import { adamUpdate, emaUpdate, sumOfSquares, type AdamStep } from '../ops/optim.ts';
import { refArray, type Ref } from '../reference/ndarray.ts';
import { refAdamUpdate, refEmaUpdate } from '../reference/optim.ts';
import type { CheckCase, OpCheck } from './runner.ts';

const ADAM = { lr: 0.3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, step: 1, maxGradNorm: 0 };

const ADAM_CASES: { name: string; n: number; step: AdamStep }[] = [
  { name: 'Adam, first step', n: 37, step: ADAM },
  { name: 'Adam + L2 decay, step 7', n: 300, step: { ...ADAM, weightDecay: 0.05, step: 7 } },
  { name: 'AdamW, step 3', n: 64, step: { ...ADAM, lr: 0.1, weightDecay: 0.1, decoupledWeightDecay: true, step: 3 } },
  { name: 'Adam, clipped to norm 0.5', n: 1000, step: { ...ADAM, beta1: 0.5, beta2: 0.9, maxGradNorm: 0.5, step: 2 } },
  { name: 'AdamW, clip above the norm', n: 5, step: { ...ADAM, decoupledWeightDecay: true, weightDecay: 0.01, maxGradNorm: 1e3 } },
];

/** The three updated buffers, end to end. */
const joined = (parts: readonly Ref[]): Ref => refArray([parts.reduce((n, p) => n + p.data.length, 0)], parts.flatMap((p) => [...p.data]));

const adamCases: CheckCase[] = ADAM_CASES.map(({ name, n, step }) => ({
  name: `${name} [${n}]`,
  inputs: [
    { name: 'weights', shape: [n] },
    { name: 'grads', shape: [n] },
    { name: 'm', shape: [n] },
    { name: 'v', shape: [n], dist: 'positive' },
  ],
  gpu: ([w, g, m, v]) => {
    adamUpdate(w!, g!, m!, v!, step, step.maxGradNorm > 0 ? sumOfSquares(g!) : null);
    return concat([w!, m!, v!], 0);
  },
  ref: ([w, g, m, v]) => {
    const r = refAdamUpdate(w!, g!, m!, v!, step);
    return joined([r.weights, r.m, r.v]);
  },
}));

const emaCases: CheckCase[] = [
  { n: 29, decay: 0.9 },
  { n: 700, decay: 0.5 },
  { n: 3, decay: 1 },
].map(({ n, decay }) => ({
  name: `[${n}] decay ${decay}`,
  inputs: [
    { name: 'ema', shape: [n] },
    { name: 'weights', shape: [n] },
  ],
  gpu: ([ema, w]) => {
    emaUpdate(ema!, w!, decay);
    return ema!;
  },
  ref: ([ema, w]) => refEmaUpdate(ema!, w!, decay),
}));

export const optimChecks: OpCheck[] = [
  { op: 'adamUpdate', cases: adamCases },
  { op: 'emaUpdate', cases: emaCases },
];
