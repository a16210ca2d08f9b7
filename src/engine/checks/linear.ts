// Check cases for linear (src/engine/ops/linear.ts).

import { linear } from '../ops/linear.ts';
import { refLinear, refLinearVjp } from '../reference/linear.ts';
import type { KernelTuning } from '../tuning.ts';
import { withHalfCases, type CheckCase, type OpCheck } from './runner.ts';

/** A real GPU's tiled matmul, and with enough target workgroups that a K of 512 or more splits. */
const TILED: Partial<KernelTuning> = { matmulTiled: true };
const SPLIT_K: Partial<KernelTuning> = { matmulTargetWorkgroups: 64 };

/**
 * Rank 1, 2 and 4 inputs, sizes off the matmul tiles (1, 7, 33, 130), with and without bias (the
 * matmul's epilogue adds it: each kernel, and split-K, where only the first K slice adds it).
 */
const LINEAR_CASES: { x: number[]; out: number; bias: boolean; tuning?: Partial<KernelTuning>; label?: string }[] = [
  { x: [2, 6, 8], out: 5, bias: true },
  { x: [7], out: 3, bias: true },
  { x: [33, 13], out: 130, bias: true },
  { x: [2, 3, 5, 7], out: 1, bias: true },
  { x: [9, 32], out: 128, bias: false },
  { x: [6, 16], out: 36, bias: true },
  { x: [5, 600], out: 8, bias: true, tuning: SPLIT_K, label: 'split-K' },
  { x: [70, 20], out: 66, bias: true, tuning: TILED, label: 'tiled' },
  { x: [4, 520], out: 9, bias: true, tuning: { ...TILED, ...SPLIT_K }, label: 'tiled, split-K' },
];

const cases: CheckCase[] = LINEAR_CASES.map(({ x, out, bias, tuning, label }) => {
  const inF = x[x.length - 1]!;
  return {
    name: `x[${x}] w[${out},${inF}]${bias ? ' +b' : ''}${label ? ` (${label})` : ''}`,
    ...(tuning ? { tuning } : {}),
    inputs: [
      { name: 'x', shape: x },
      { name: 'w', shape: [out, inF] },
      ...(bias ? [{ name: 'b', shape: [out] }] : []),
    ],
    gpu: ([xs, w, b]) => linear(xs!, w!, b ?? null),
    ref: ([xs, w, b]) => refLinear(xs!, w!, b ?? null),
    vjp: ([xs, w, b], gy) => {
      const [dx, dw, db] = refLinearVjp(xs!, w!, b ?? null, gy);
      return db ? [dx, dw, db] : [dx, dw];
    },
  };
});

export const linearChecks: OpCheck[] = [withHalfCases({ op: 'linear', cases })];
