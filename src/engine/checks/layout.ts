// Check cases for the layout ops (src/engine/ops/layout.ts).

import * as ops from '../ops/layout.ts';
import type { KernelTuning } from '../tuning.ts';
import {
  refBroadcastTo,
  refConcat,
  refConcatVjp,
  refInversePerm,
  refPermute,
  refReshape,
  refSlice,
  refSliceVjp,
  refSumTo,
} from '../reference/layout.ts';
import { withHalfCases, type CheckCase, type OpCheck } from './runner.ts';

const reshapeCases: CheckCase[] = [
  { from: [7, 33], to: [33, 7] },
  { from: [2, 3, 5], to: [-1, 5] },
].map(({ from, to }) => ({
  name: `[${from}]→[${to}]`,
  inputs: [{ name: 'x', shape: from }],
  gpu: ([x]) => ops.reshape(x!, to),
  ref: ([x]) => refReshape(x!, to.includes(-1) ? to.map((d) => (d === -1 ? x!.data.length / 5 : d)) : to),
  vjp: ([x], gy) => [refReshape(gy, x!.shape)],
}));

/** A real GPU's tiled transpose, whatever the adapter. */
const TILED: Partial<KernelTuning> = { transposeTiled: true };

const permuteCases: CheckCase[] = [
  { shape: [2, 7, 3, 5], perm: [3, 0, 2, 1] },
  { shape: [33, 7], perm: [1, 0] },
  { shape: [1, 130], perm: [1, 0] },
  // The tiled transpose: edges of its 32x32 tiles, batched, and a permute that collapses to one.
  { shape: [33, 70], perm: [1, 0], tuning: TILED },
  { shape: [3, 40, 5], perm: [0, 2, 1], tuning: TILED },
  { shape: [2, 3, 4, 5], perm: [0, 2, 3, 1], tuning: TILED },
  { shape: [2, 7, 3, 5], perm: [3, 0, 2, 1], tuning: TILED },
  // Whole rows of 4 along a contiguous innermost axis (the copy kernel's runs of 4).
  { shape: [3, 5, 8], perm: [1, 0, 2] },
].map(({ shape, perm, tuning }) => ({
  name: `[${shape}] perm [${perm}]${tuning ? ' (tiled)' : ''}`,
  ...(tuning ? { tuning } : {}),
  inputs: [{ name: 'x', shape }],
  gpu: ([x]) => ops.permute(x!, perm),
  ref: ([x]) => refPermute(x!, perm),
  vjp: (_, gy) => [refPermute(gy, refInversePerm(perm))],
}));

const transposeCases: CheckCase[] = [
  { shape: [3, 7, 33], a: -2, b: -1, perm: [0, 2, 1] },
  { shape: [3, 7, 5], a: 0, b: 2, perm: [2, 1, 0] },
].map(({ shape, a, b, perm }) => ({
  name: `[${shape}] axes ${a},${b}`,
  inputs: [{ name: 'x', shape }],
  gpu: ([x]) => ops.transpose(x!, a, b),
  ref: ([x]) => refPermute(x!, perm),
  vjp: (_, gy) => [refPermute(gy, refInversePerm(perm))],
}));

const broadcastCases: CheckCase[] = [
  { from: [33], to: [7, 33] },
  { from: [7, 1], to: [2, 7, 13] },
  { from: [1], to: [130] },
  // Runs of 4: a broadcast innermost axis, a contiguous one under a broadcast outer axis.
  { from: [1], to: [132] },
  { from: [3, 1], to: [2, 3, 8] },
  { from: [12], to: [5, 12] },
].map(({ from, to }) => ({
  name: `[${from}]→[${to}]`,
  inputs: [{ name: 'x', shape: from }],
  gpu: ([x]) => ops.broadcastTo(x!, to),
  ref: ([x]) => refBroadcastTo(x!, to),
  vjp: ([x], gy) => [refSumTo(gy, x!.shape)],
}));

const sliceCases: CheckCase[] = [
  { shape: [7, 33, 5], axis: 1, start: 3, end: 20 },
  { shape: [7, 33], axis: 0, start: -3, end: undefined },
  { shape: [130], axis: 0, start: 0, end: 1 },
  { shape: [5, 13], axis: 1, start: 1, end: 9 },
].map(({ shape, axis, start, end }) => {
  const n = shape[axis]!;
  const s = start < 0 ? start + n : start;
  const e = end ?? n;
  return {
    name: `[${shape}] axis ${axis} [${start}:${end ?? ''}]`,
    inputs: [{ name: 'x', shape }],
    gpu: ([x]) => ops.slice(x!, axis, start, end),
    ref: ([x]) => refSlice(x!, axis, s, e),
    vjp: ([x], gy) => [refSliceVjp(x!.shape, axis, s, gy)],
  };
});

const concatCases: CheckCase[] = [
  { shapes: [[2, 3, 5], [2, 1, 5], [2, 7, 5]], axis: 1 },
  { shapes: [[7, 33], [1, 33]], axis: 0 },
  { shapes: [[3, 4], [3, 130]], axis: -1 },
  { shapes: [[2, 3, 8], [2, 1, 8]], axis: 1 },
].map(({ shapes, axis }) => {
  const ax = axis < 0 ? axis + shapes[0]!.length : axis;
  return {
    name: shapes.map((s) => `[${s}]`).join('+') + ` axis ${axis}`,
    inputs: shapes.map((shape, i) => ({ name: `x${i}`, shape })),
    gpu: (xs) => ops.concat(xs, axis),
    ref: (xs) => refConcat(xs, ax),
    vjp: (xs, gy) => refConcatVjp(xs, ax, gy),
  };
});

export const layoutChecks: OpCheck[] = [
  withHalfCases({ op: 'reshape', cases: reshapeCases }),
  withHalfCases({ op: 'permute', cases: permuteCases }),
  withHalfCases({ op: 'transpose', cases: transposeCases }),
  withHalfCases({ op: 'broadcastTo', cases: broadcastCases }),
  withHalfCases({ op: 'slice', cases: sliceCases }),
  withHalfCases({ op: 'concat', cases: concatCases }),
];
