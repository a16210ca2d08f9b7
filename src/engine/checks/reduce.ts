// Check cases for sum and mean (src/engine/ops/reduce.ts).

import { normalizeAxes } from '../shape.ts';
import * as ops from '../ops/reduce.ts';
import { refMeanScale, refSum, refSumVjp } from '../reference/reduce.ts';
import type { CheckCase, OpCheck } from './runner.ts';

/** Short reductions take one pass, long ones two (lanes, then their sum); trailing axes take the contiguous kernel. */
const REDUCE_CASES: { shape: number[]; axes?: number[]; keepdim: boolean }[] = [
  { shape: [7, 33], keepdim: false },
  { shape: [7, 33], axes: [0], keepdim: true },
  { shape: [7, 33], axes: [1], keepdim: false },
  { shape: [3, 7, 33], axes: [0, 2], keepdim: false },
  { shape: [2, 130, 5], axes: [-2], keepdim: true },
  { shape: [1], keepdim: false },
  { shape: [130, 131], keepdim: false },
];

function reduceCases(op: 'sum' | 'mean'): CheckCase[] {
  return REDUCE_CASES.map(({ shape, axes, keepdim }) => {
    const ax = normalizeAxes(op, axes, shape.length);
    return {
      name: `[${shape}] axes ${axes ? `[${axes}]` : 'all'}${keepdim ? ' keepdim' : ''}`,
      inputs: [{ name: 'x', shape }],
      gpu: ([x]) => ops[op](x!, axes, keepdim),
      ref: ([x]) => refSum(x!, ax, keepdim, op === 'mean' ? refMeanScale(x!, ax) : 1),
      vjp: ([x], gy) => [refSumVjp(x!, ax, gy, op === 'mean' ? refMeanScale(x!, ax) : 1)],
    };
  });
}

export const reduceChecks: OpCheck[] = [
  { op: 'sum', cases: reduceCases('sum') },
  { op: 'mean', cases: reduceCases('mean') },
];
