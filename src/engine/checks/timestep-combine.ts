// Check cases for timestepCombine (src/engine/ops/timestep-combine.ts). Tables and timesteps
// are fixed data (no gradient); x and y get theirs.

import { timestepCombine } from '../ops/timestep-combine.ts';
import { tensor } from '../tensor.ts';
import { refArray } from '../reference/ndarray.ts';
import { refTimestepCombine, refTimestepCombineVjp } from '../reference/timestep-combine.ts';
import type { CheckCase, OpCheck } from './runner.ts';

const T = 7;
const tableA = Array.from({ length: T }, (_, i) => Math.sqrt(1 - i / 8));
const tableB = Array.from({ length: T }, (_, i) => Math.sqrt(i / 8));

const cases: CheckCase[] = [
  { shape: [3, 2, 5, 5], t: [0, 6, 3] },
  { shape: [1, 33], t: [4] },
  { shape: [5, 1, 1, 7], t: [1, 1, 2, 5, 0] },
].map(({ shape, t }) => ({
  name: `[${shape}] t=[${t}]`,
  inputs: [
    { name: 'x', shape },
    { name: 'y', shape },
  ],
  gpu: ([x, y]) => timestepCombine(x!, y!, tensor(tableA), tensor(tableB), tensor(t)),
  ref: ([x, y]) => refTimestepCombine(x!, y!, refArray([T], tableA), refArray([T], tableB), refArray([t.length], t)),
  vjp: ([x], gy) => refTimestepCombineVjp(x!, refArray([T], tableA), refArray([T], tableB), refArray([t.length], t), gy),
}));

export const timestepCombineChecks: OpCheck[] = [{ op: 'timestepCombine', cases }];
