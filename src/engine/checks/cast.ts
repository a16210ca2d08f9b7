// Check cases for cast (src/engine/ops/cast.ts): f32 → f16 → f32 round trips against rounding
// to the nearest f16 (odd counts leave a padded last word; large values clamp to ±65504), forward
// only (rounding is a step function: finite differences see no slope); the gradient of a cast to
// its own dtype. The gradient through an f16 round trip is tested in tests/ops/cast.test.ts.

import { cast } from '../ops/cast.ts';
import { refCast } from '../reference/cast.ts';
import type { CheckCase, OpCheck } from './runner.ts';

/** One f16 ulp relative (2^-10): the GPU may round a tie or a midpoint either way. */
const ROUNDING_TOLERANCE = 1e-3;

const roundTrip = (name: string, shape: number[], dist?: CheckCase['inputs'][number]['dist']): CheckCase => ({
  name,
  inputs: [{ name: 'x', shape, ...(dist ? { dist } : {}) }],
  gpu: ([x]) => cast(cast(x!, 'f16'), 'f32'),
  ref: ([x]) => refCast(x!, 'f16'),
  tolerance: ROUNDING_TOLERANCE,
});

const cases: CheckCase[] = [
  roundTrip('[1]', [1]),
  roundTrip('[7] (odd: a padded last word)', [7]),
  roundTrip('[3, 5, 9]', [3, 5, 9]),
  // f16 subnormals are 2^-24 ≈ 6e-8 apart, 6% of these values: WGSL lets a conversion land on
  // either neighbour (SwiftShader truncates: 1.9e-3 where lavapipe rounds to nearest: 2.8e-4).
  { ...roundTrip('[1000] small values (f16 subnormals)', [1000], { scale: 1e-6, offset: 0 }), tolerance: 0.03 },
  roundTrip('[64] beyond ±65504 (clamped)', [64], { scale: 1e5, offset: 0 }),
  {
    name: '[4, 6] f32 to f32 (a view)',
    inputs: [{ name: 'x', shape: [4, 6] }],
    gpu: ([x]) => cast(x!, 'f32'),
    ref: ([x]) => refCast(x!, 'f32'),
    vjp: (_, gy) => [gy],
  },
];

export const castChecks: OpCheck[] = [{ op: 'cast', cases }];
