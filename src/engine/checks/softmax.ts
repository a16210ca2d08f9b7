// Check cases for softmax and logSoftmax (src/engine/ops/softmax.ts).

import { logSoftmax, softmax } from '../ops/softmax.ts';
import { refSoftmax, refSoftmaxVjp } from '../reference/softmax.ts';
import type { CheckCase, OpCheck } from './runner.ts';

/** Large-offset rows (values near 1e3) would overflow a softmax that skips the max. */
const SHAPES: { shape: number[]; dist?: { scale: number; offset: number } }[] = [
  { shape: [7, 33] },
  { shape: [3, 130], dist: { scale: 3, offset: 0 } },
  { shape: [1, 1] },
  { shape: [2, 5, 7], dist: { scale: 2, offset: 1000 } },
  { shape: [5, 256] },
];

/** Each shape with the workgroup-memory tree and with subgroup reductions (where the adapter has them). */
const REDUCTIONS = [
  { subgroups: false, label: '' },
  { subgroups: true, label: ' (subgroups)' },
];

function cases(log: boolean): CheckCase[] {
  return REDUCTIONS.flatMap(({ subgroups, label }) =>
    SHAPES.map(({ shape, dist }) => ({
      name: `[${shape}]${dist ? ` ~N(${dist.offset},${dist.scale}²)` : ''}${label}`,
      inputs: [{ name: 'x', shape, ...(dist ? { dist } : {}) }],
      gpu: ([x]) => (log ? logSoftmax(x!) : softmax(x!)),
      ref: ([x]) => refSoftmax(x!, log),
      vjp: ([x], gy) => [refSoftmaxVjp(x!, gy, log)],
      tuning: { subgroups },
    })),
  );
}

export const softmaxChecks: OpCheck[] = [
  { op: 'softmax', cases: cases(false) },
  { op: 'logSoftmax', cases: cases(true) },
];
