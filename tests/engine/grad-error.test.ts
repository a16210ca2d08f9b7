// The op checks' gradient error: relative to the reference, and for a gradient that is
// identically zero (attention over one key: dq, dk) the result's size against the upstream
// gradient's, so float32 rounding residue there is not reported as a 1e23 relative error.

import { expect, test } from 'vitest';
import { gradError, relError } from '../../src/engine/checks/runner.ts';

test('a non-zero reference: the relative error', () => {
  const ref = [1, -2, 3];
  const gpu = [1.0001, -2, 3];
  expect(gradError(gpu, ref, [5, 5])).toBeCloseTo(relError(gpu, ref), 12);
});

test('an identically zero reference: rounding residue is small against the upstream gradient', () => {
  const upstream = [0.7, -1.3, 0.2, 2.1];
  expect(gradError([3e-8, -1e-8, 0, 2e-8], [0, 1e-17, 0, 0], upstream)).toBeLessThan(1e-7);
  // A wrong non-zero gradient still fails.
  expect(gradError([0.5, 0, 0, 0], [0, 0, 0, 0], upstream)).toBeGreaterThan(0.1);
  expect(relError([3e-8, 0, 0, 0], [0, 1e-17, 0, 0])).toBeGreaterThan(1e6);
});
