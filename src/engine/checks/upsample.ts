// Check cases for upsampleNearest2x (src/engine/ops/upsample.ts).

import { upsampleNearest2x } from '../ops/upsample.ts';
import { refUpsampleNearest2x, refUpsampleNearest2xVjp } from '../reference/upsample.ts';
import { withHalfCases, type CheckCase, type OpCheck } from './runner.ts';

const SHAPES: number[][] = [
  [1, 1, 1, 1],
  [2, 3, 7, 5],
  [1, 5, 33, 33],
  [2, 130, 2, 3],
  [1, 8, 1, 7],
];

const cases: CheckCase[] = SHAPES.map((shape) => ({
  name: `[${shape}]`,
  inputs: [{ name: 'x', shape }],
  gpu: ([x]) => upsampleNearest2x(x!),
  ref: ([x]) => refUpsampleNearest2x(x!),
  vjp: ([x], gy) => [refUpsampleNearest2xVjp(x!, gy)],
}));

export const upsampleChecks: OpCheck[] = [withHalfCases({ op: 'upsampleNearest2x', cases })];
