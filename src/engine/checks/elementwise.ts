// Check cases for the elementwise ops (src/engine/ops/elementwise.ts).

import * as ops from '../ops/elementwise.ts';
import {
  refAffine,
  refAffineVjp,
  refBinary,
  refBinaryVjp,
  refClamp,
  refClampVjp,
  refUnary,
  refUnaryVjp,
} from '../reference/elementwise.ts';
import { sameShape, sizeOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import type { KernelTuning } from '../tuning.ts';
import { withHalfCases, type CheckCase, type Distribution, type OpCheck } from './runner.ts';

const UNARY_DOMAINS: Record<string, Distribution> = { log: 'positive', sqrt: 'positive' };
/**
 * Sizes that are not multiples of 4 (the scalar kernels) and that are (the vec4 kernels: 1, 3,
 * 15 and 132 vec4s, 4 per invocation: runs that fall short, end exactly, or overlap the last).
 */
const UNARY_SHAPES = [[7, 33], [130], [1], [2, 3, 5], [4], [12], [5, 12], [3, 4, 44]];

/** Both layouts of the vec4 kernels' runs (strided: a GPU's; contiguous: a software adapter's), whatever the adapter. */
const VEC4_LAYOUTS: { label: string; tuning: Partial<KernelTuning> }[] = [
  { label: 'strided', tuning: { elementwiseContiguous: false } },
  { label: 'contiguous', tuning: { elementwiseContiguous: true } },
];

/** A case per layout where the vec4 kernels run (sizes multiple of 4), else the case as it is. */
function perLayout(size: number, base: CheckCase): CheckCase[] {
  if (size % 4 !== 0) return [base];
  return VEC4_LAYOUTS.map(({ label, tuning }) => ({ ...base, name: `${base.name} (${label})`, tuning }));
}
const UNARY_GPU: Record<string, (x: Tensor) => Tensor> = {
  neg: ops.neg,
  exp: ops.exp,
  log: ops.log,
  sqrt: ops.sqrt,
  square: ops.square,
  sigmoid: ops.sigmoid,
  silu: ops.silu,
  tanh: ops.tanh,
};

const unaryChecks: OpCheck[] = Object.entries(UNARY_GPU).map(([op, fn]) => ({
  op,
  cases: UNARY_SHAPES.flatMap((shape) =>
    perLayout(sizeOf(shape), {
      name: `[${shape}]`,
      inputs: [{ name: 'x', shape, dist: UNARY_DOMAINS[op] ?? (op === 'sigmoid' || op === 'tanh' || op === 'silu' ? { scale: 4, offset: 0 } : 'normal') }],
      gpu: ([x]) => fn(x!),
      ref: ([x]) => refUnary(op, x!),
      vjp: ([x], gy) => [refUnaryVjp(op, x!, gy)],
    }),
  ),
}));

const SCALAR_CASES: [string, (x: Tensor) => Tensor, number, number][] = [
  ['addScalar', (x) => ops.addScalar(x, 2.5), 1, 2.5],
  ['subScalar', (x) => ops.subScalar(x, 0.75), 1, -0.75],
  ['mulScalar', (x) => ops.mulScalar(x, -3), -3, 0],
  ['divScalar', (x) => ops.divScalar(x, 4), 0.25, 0],
];

const scalarChecks: OpCheck[] = SCALAR_CASES.map(([op, fn, scale, shift]) => ({
  op,
  cases: [[7, 33], [1]].map(
    (shape): CheckCase => ({
      name: `[${shape}]`,
      inputs: [{ name: 'x', shape }],
      gpu: ([x]) => fn(x!),
      ref: ([x]) => refAffine(x!, scale, shift),
      vjp: (_, gy) => [refAffineVjp(gy, scale)],
    }),
  ),
}));

/** Shape pairs: equal (sizes off and on multiples of 4), trailing broadcast, both-sided broadcast, scalar-like, rank mismatch. */
const BINARY_SHAPES: [number[], number[]][] = [
  [[7, 33], [7, 33]],
  [[5, 12], [5, 12]],
  [[3, 4, 44], [3, 4, 44]],
  [[12], [12]],
  [[7, 33], [33]],
  [[130, 1], [1, 7]],
  [[1], [2, 3, 5]],
  [[2, 1, 5], [3, 1]],
];

const binaryChecks: OpCheck[] = (['add', 'sub', 'mul', 'div'] as const).map((op) => ({
  op,
  cases: BINARY_SHAPES.flatMap(([sa, sb]) =>
    // The vec4 kernel takes equal shapes only.
    perLayout(sameShape(sa, sb) ? sizeOf(sa) : 1, {
      name: `[${sa}]∘[${sb}]`,
      inputs: [
        { name: 'a', shape: sa },
        { name: 'b', shape: sb, dist: op === 'div' ? 'nonzero' : 'normal' },
      ],
      gpu: ([a, b]) => ops[op](a!, b!),
      ref: ([a, b]) => refBinary(op, a!, b!),
      vjp: ([a, b], gy) => refBinaryVjp(op, a!, b!, gy),
    }),
  ),
}));

// Inputs are kept away from the bounds ±1 by construction: clamp's derivative jumps there.
const clampCheck: OpCheck = {
  op: 'clamp',
  cases: [[7, 33], [130]].map(
    (shape): CheckCase => ({
      name: `[${shape}] to [-1, 1]`,
      inputs: [{ name: 'x', shape, dist: 'nonzero' }],
      gpu: ([x]) => ops.clamp(x!, -1, 1),
      ref: ([x]) => refClamp(x!, -1, 1),
      vjp: ([x], gy) => [refClampVjp(x!, gy, -1, 1)],
    }),
  ),
};

// Every elementwise forward runs in f16 too (sampling's SiLU, residual adds and scalings).
export const elementwiseChecks: OpCheck[] = [...unaryChecks, ...scalarChecks, clampCheck, ...binaryChecks].map((c) => withHalfCases(c));
