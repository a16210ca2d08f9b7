// Check cases for sum and mean (src/engine/ops/reduce.ts).

import { normalizeAxes } from '../shape.ts';
import * as ops from '../ops/reduce.ts';
import { refMeanScale, refSum, refSumVjp } from '../reference/reduce.ts';
import type { KernelTuning } from '../tuning.ts';
import type { CheckCase, OpCheck } from './runner.ts';

/** A real GPU's sum: interleaved lanes, many items; with and without the subgroups' workgroup pass. */
const GPU_LANES: Partial<KernelTuning> = { reduceChunked: false, reduceTargetItems: 16384 };
const GPU_SUBGROUPS: Partial<KernelTuning> = { ...GPU_LANES, subgroups: true };
const GPU_NO_SUBGROUPS: Partial<KernelTuning> = { ...GPU_LANES, subgroups: false };

/**
 * Short reductions take one pass, long ones two (lanes, then their sum); trailing axes take the
 * contiguous kernel (vec4 loads when the reduced count is a multiple of 4). The GPU-shaped cases:
 * one workgroup per output (5·1024), several (3·4096: a second pass), and one long output.
 */
const REDUCE_CASES: { shape: number[]; axes?: number[]; keepdim: boolean; tuning?: Partial<KernelTuning>; label?: string }[] = [
  { shape: [4, 1024], axes: [1], keepdim: false },
  // Leading axes: a vec4 column per invocation (few rows), or lanes (many rows, few columns).
  { shape: [6, 12], axes: [0], keepdim: false },
  { shape: [3, 5, 8], axes: [0, 1], keepdim: true },
  { shape: [70, 8], axes: [0], keepdim: false },
  { shape: [5, 1024], axes: [1], keepdim: false, tuning: GPU_SUBGROUPS, label: 'gpu, subgroups' },
  { shape: [3, 4096], axes: [1], keepdim: true, tuning: GPU_SUBGROUPS, label: 'gpu, subgroups' },
  { shape: [130, 128], keepdim: false, tuning: GPU_SUBGROUPS, label: 'gpu, subgroups' },
  { shape: [3, 4096], axes: [1], keepdim: true, tuning: GPU_NO_SUBGROUPS, label: 'gpu' },
  { shape: [7, 33], keepdim: false },
  { shape: [7, 33], axes: [0], keepdim: true },
  { shape: [7, 33], axes: [1], keepdim: false },
  { shape: [3, 7, 33], axes: [0, 2], keepdim: false },
  { shape: [2, 130, 5], axes: [-2], keepdim: true },
  { shape: [1], keepdim: false },
  { shape: [130, 131], keepdim: false },
  // Leading and trailing axes around kept ones (a conv's bias gradient): one pass, a thread per
  // output here, a workgroup tree per output on a GPU (a long outer run, and a short inner one).
  { shape: [3, 5, 4, 4], axes: [0, 2, 3], keepdim: false },
  { shape: [2, 3, 2, 8], axes: [0, 3], keepdim: true },
  { shape: [37, 6, 8], axes: [0, 2], keepdim: false, tuning: GPU_LANES, label: 'gpu' },
  { shape: [2, 70, 4], axes: [0, 2], keepdim: true, tuning: GPU_LANES, label: 'gpu' },
];

function reduceCases(op: 'sum' | 'mean'): CheckCase[] {
  return REDUCE_CASES.map(({ shape, axes, keepdim, tuning, label }) => {
    const ax = normalizeAxes(op, axes, shape.length);
    return {
      name: `[${shape}] axes ${axes ? `[${axes}]` : 'all'}${keepdim ? ' keepdim' : ''}${label ? ` (${label})` : ''}`,
      ...(tuning ? { tuning } : {}),
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
