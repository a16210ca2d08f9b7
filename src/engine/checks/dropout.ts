// Check cases for dropout (src/engine/ops/dropout.ts). The GPU and the reference share the mask's
// hash, so their outputs agree to float rounding; a mismatched mask would fail by far.

import { dropout } from '../ops/dropout.ts';
import { refDropout, refDropoutVjp } from '../reference/dropout.ts';
import type { CheckCase, OpCheck } from './runner.ts';

const DROPOUT_CASES: { shape: number[]; p: number; seed: number }[] = [
  { shape: [7, 33], p: 0.1, seed: 1 },
  { shape: [130], p: 0.5, seed: 42 },
  { shape: [2, 3, 5], p: 0.9, seed: 4294967295 },
  { shape: [1], p: 0.3, seed: 0 },
  { shape: [4, 64, 8, 8], p: 0.25, seed: 7 },
];

const cases: CheckCase[] = DROPOUT_CASES.map(({ shape, p, seed }) => ({
  name: `[${shape}] p ${p} seed ${seed}`,
  inputs: [{ name: 'x', shape }],
  gpu: ([x]) => dropout(x!, p, seed),
  ref: ([x]) => refDropout(x!, p, seed),
  vjp: (_, gy) => [refDropoutVjp(gy, p, seed)],
}));

export const dropoutChecks: OpCheck[] = [{ op: 'dropout', cases }];
