// Check cases for groupNorm (src/engine/ops/group-norm.ts).

import { groupNorm } from '../ops/group-norm.ts';
import { refDropout, refDropoutVjp } from '../reference/dropout.ts';
import { refGroupNorm, refGroupNormVjp, type RefGroupNormOptions } from '../reference/group-norm.ts';
import { withHalfCases, type CheckCase, type Distribution, type OpCheck } from './runner.ts';

/**
 * Odd channel counts and spatial sizes, groups 1, C and in between, rank 2 to 4, SiLU on and off,
 * inputs near 1e3 (which a one-pass E[x²] − E[x]² variance would get badly wrong), and a batch
 * of large planes whose dgamma/dbeta take the parallel sum (N·T = 17·32 > SERIAL_CHANNEL_SUM_MAX).
 */
type Options = RefGroupNormOptions & { dropout?: { p: number; seed: number } };

const SHAPES: { shape: number[]; options: Options; dist?: Distribution }[] = [
  { shape: [2, 1, 7, 7], options: { groups: 1 } },
  { shape: [2, 3, 7, 7], options: { groups: 3, silu: true } },
  { shape: [3, 5, 33], options: { groups: 5 } },
  { shape: [2, 8, 7, 7], options: { groups: 4, silu: true } },
  { shape: [2, 8, 1, 1], options: { groups: 2 } },
  { shape: [3, 6], options: { groups: 2, silu: true } },
  { shape: [2, 130], options: { groups: 1 } },
  { shape: [2, 130, 2, 3], options: { groups: 10, silu: true } },
  { shape: [1, 4, 33, 33], options: { groups: 2, silu: true } },
  { shape: [2, 4, 5, 5], options: { groups: 2, eps: 1e-3 } },
  { shape: [2, 8, 9, 9], options: { groups: 4 }, dist: { scale: 1, offset: 1000 } },
  { shape: [2, 6, 7, 7], options: { groups: 3, silu: true }, dist: { scale: 1, offset: 1000 } },
  { shape: [1, 2, 33, 33], options: { groups: 1 }, dist: { scale: 2, offset: -1000 } },
  { shape: [17, 4, 32, 32], options: { groups: 2, silu: true } },
  // Dropout fused after the activation (the ResBlock's norm2): the dropout kernel's own mask.
  { shape: [2, 8, 7, 7], options: { groups: 4, silu: true, dropout: { p: 0.3, seed: 7 } } },
  { shape: [3, 6, 5, 5], options: { groups: 2, dropout: { p: 0.5, seed: 12345 } } },
];

function caseName(shape: number[], { groups, eps, silu, dropout }: Options, dist?: Distribution): string {
  const offset = dist && typeof dist === 'object' ? ` x~N(${dist.offset},${dist.scale}²)` : '';
  const drop = dropout ? ` +dropout(${dropout.p})` : '';
  return `[${shape}] G=${groups}${eps !== undefined ? ` eps=${eps}` : ''}${silu ? ' +silu' : ''}${drop}${offset}`;
}

const cases: CheckCase[] = SHAPES.map(({ shape, options, dist }) => {
  const channels = [shape[1]!];
  return {
    name: caseName(shape, options, dist),
    inputs: [
      { name: 'x', shape, ...(dist ? { dist } : {}) },
      { name: 'gamma', shape: channels },
      { name: 'beta', shape: channels },
    ],
    gpu: ([x, gamma, beta]) => groupNorm(x!, gamma!, beta!, options),
    // With dropout the reference composes GroupNorm(+SiLU) and dropout.
    ref: ([x, gamma, beta]) => {
      const y = refGroupNorm(x!, gamma!, beta!, options);
      return options.dropout ? refDropout(y, options.dropout.p, options.dropout.seed) : y;
    },
    vjp: ([x, gamma, beta], gy) =>
      refGroupNormVjp(x!, gamma!, beta!, options.dropout ? refDropoutVjp(gy, options.dropout.p, options.dropout.seed) : gy, options),
  };
});

export const groupNormChecks: OpCheck[] = [withHalfCases({ op: 'groupNorm', cases })];
