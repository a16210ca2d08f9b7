// The Fréchet distance against scipy's sqrtm-based formula (pytorch-fid's), and its basic laws.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { featureStats, frechetDistance, normalisedFrechet, symmetricEigen } from '../../src/model/quality/frechet.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/quality/frechet.json', import.meta.url), 'utf8')) as {
  cases: { count: number; dim: number; x: number[]; y: number[]; fd: number }[];
};

test('matches scipy (sqrtm of Σ₁Σ₂) to 1e-9 relative', () => {
  for (const c of fixture.cases) {
    const fd = frechetDistance(featureStats(c.x, c.count, c.dim), featureStats(c.y, c.count, c.dim));
    expect(Math.abs(fd - c.fd) / c.fd).toBeLessThan(1e-9);
  }
});

test('is zero for identical sets, symmetric, and grows with a mean shift', () => {
  const { x, count, dim } = fixture.cases[0]!;
  const sx = featureStats(x, count, dim);
  expect(frechetDistance(sx, sx)).toBeLessThan(1e-9);
  const y = fixture.cases[0]!.y;
  const sy = featureStats(y, count, dim);
  expect(frechetDistance(sx, sy)).toBeCloseTo(frechetDistance(sy, sx), 8);
  const shifted = (d: number) => featureStats(x.map((v, i) => (i % dim === 0 ? v + d : v)), count, dim);
  const fd1 = frechetDistance(sx, shifted(1));
  const fd2 = frechetDistance(sx, shifted(2));
  expect(fd1).toBeCloseTo(1, 8); // a pure mean shift of 1 along one axis
  expect(fd2).toBeCloseTo(4, 8);
});

test('eigendecomposition reconstructs a symmetric matrix', () => {
  const n = 6;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = Math.sin(i * 7 + j * 3);
  const { values, vectors } = symmetricEigen(m, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
      expect(s).toBeCloseTo(m[i * n + j]!, 10);
    }
  }
});

test('normalised distance and bad input', () => {
  expect(normalisedFrechet(30, 10, 110)).toBeCloseTo(0.2, 12);
  expect(() => normalisedFrechet(1, 5, 5)).toThrow(/not above the real floor/);
  expect(() => featureStats([1, 2, 3], 1, 3)).toThrow(/at least 2/);
  expect(() => featureStats([1, 2, 3], 2, 2)).toThrow(/is not 2 rows of 2/);
});
