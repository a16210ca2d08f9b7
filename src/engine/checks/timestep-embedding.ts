// Check cases for the sinusoidal timestep embedding (src/engine/ops/timestep-embedding.ts).

import { timestepEmbedding } from '../ops/timestep-embedding.ts';
import { refTimestepEmbedding, refTimestepEmbeddingVjp } from '../reference/timestep-embedding.ts';
import type { CheckCase, Distribution, OpCheck } from './runner.ts';

/** DDPM's and UNet2DModel's conventions, odd dims, a custom period, and timesteps up to ~1000. */
const TEMB_CASES: { batch: number; dim: number; flip: boolean; shift: number; maxPeriod?: number; t: Distribution }[] = [
  { batch: 8, dim: 32, flip: false, shift: 1, t: { scale: 300, offset: 500 } },
  { batch: 7, dim: 32, flip: true, shift: 0, t: { scale: 300, offset: 500 } },
  { batch: 3, dim: 33, flip: true, shift: 0, t: { scale: 10, offset: 20 } },
  { batch: 1, dim: 7, flip: false, shift: 1, t: 'normal' },
  { batch: 5, dim: 130, flip: false, shift: 0, maxPeriod: 100, t: { scale: 4, offset: 0 } },
];

const cases: CheckCase[] = TEMB_CASES.map(({ batch, dim, flip, shift, maxPeriod = 10000, t }) => {
  const o = { flipSinToCos: flip, downscaleFreqShift: shift, maxPeriod };
  return {
    name: `t[${batch}] dim ${dim}${flip ? ' cos-first' : ''} shift ${shift}${maxPeriod !== 10000 ? ` period ${maxPeriod}` : ''}`,
    inputs: [{ name: 't', shape: [batch], dist: t }],
    gpu: ([ts]) => timestepEmbedding(ts!, dim, o),
    ref: ([ts]) => refTimestepEmbedding(ts!, dim, o),
    vjp: ([ts], gy) => [refTimestepEmbeddingVjp(ts!, dim, o, gy)],
  };
});

export const timestepEmbeddingChecks: OpCheck[] = [{ op: 'timestepEmbedding', cases }];
