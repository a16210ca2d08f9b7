// Check cases for linear (src/engine/ops/linear.ts).

import { linear } from '../ops/linear.ts';
import { refLinear, refLinearVjp } from '../reference/linear.ts';
import { withHalfCases, type CheckCase, type OpCheck } from './runner.ts';

/** Rank 1, 2 and 4 inputs, sizes off the matmul tiles (1, 7, 33, 130), with and without bias. */
const LINEAR_CASES: { x: number[]; out: number; bias: boolean }[] = [
  { x: [2, 6, 8], out: 5, bias: true },
  { x: [7], out: 3, bias: true },
  { x: [33, 13], out: 130, bias: true },
  { x: [2, 3, 5, 7], out: 1, bias: true },
  { x: [9, 32], out: 128, bias: false },
];

const cases: CheckCase[] = LINEAR_CASES.map(({ x, out, bias }) => {
  const inF = x[x.length - 1]!;
  return {
    name: `x[${x}] w[${out},${inF}]${bias ? ' +b' : ''}`,
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
