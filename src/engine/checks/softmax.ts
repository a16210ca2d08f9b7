// Check cases for softmax and logSoftmax (src/engine/ops/softmax.ts).

import { logSoftmax, softmax } from '../ops/softmax.ts';
import { refSoftmax, refSoftmaxVjp } from '../reference/softmax.ts';
import type { KernelTuning } from '../tuning.ts';
import { withHalfCases, type CheckCase, type OpCheck } from './runner.ts';

/** Large-offset rows (values near 1e3) would overflow a softmax that skips the max. */
const SHAPES: { shape: number[]; dist?: { scale: number; offset: number } }[] = [
  { shape: [7, 33] },
  { shape: [3, 130], dist: { scale: 3, offset: 0 } },
  { shape: [1, 1] },
  { shape: [2, 5, 7], dist: { scale: 2, offset: 1000 } },
  { shape: [5, 256] },
];

/**
 * Each shape with a workgroup per row (the reductions through a workgroup-memory tree, or through
 * subgroups where the adapter has them) and with a thread per row (software adapters' choice).
 */
const REDUCTIONS: { tuning: Partial<KernelTuning>; label: string }[] = [
  { tuning: { softmaxThreadPerRow: false, subgroups: false }, label: '' },
  { tuning: { softmaxThreadPerRow: false, subgroups: true }, label: ' (subgroups)' },
  { tuning: { softmaxThreadPerRow: true }, label: ' (thread per row)' },
];

function cases(log: boolean): CheckCase[] {
  return REDUCTIONS.flatMap(({ tuning, label }) =>
    SHAPES.map(({ shape, dist }) => ({
      name: `[${shape}]${dist ? ` ~N(${dist.offset},${dist.scale}²)` : ''}${label}`,
      inputs: [{ name: 'x', shape, ...(dist ? { dist } : {}) }],
      gpu: ([x]) => (log ? logSoftmax(x!) : softmax(x!)),
      ref: ([x]) => refSoftmax(x!, log),
      vjp: ([x], gy) => [refSoftmaxVjp(x!, gy, log)],
      tuning,
    })),
  );
}

export const softmaxChecks: OpCheck[] = [
  withHalfCases({ op: 'softmax', cases: cases(false) }),
  withHalfCases({ op: 'logSoftmax', cases: cases(true) }),
];
