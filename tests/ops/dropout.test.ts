// dropout: the check cases, the GPU mask against the TS hash bit for bit, its statistics, and
// the identity cases.

import { expect, test } from 'vitest';
import { dropoutChecks } from '../../src/engine/checks/dropout.ts';
import { Rng } from '../../src/engine/random.ts';
import { dropoutBits, dropoutKey, dropoutThreshold } from '../../src/shaders/dropout.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(dropoutChecks);

test("the mask's bits are the engine Rng's stream for the same seed", () => {
  for (const seed of [0, 1, 42, 2 ** 32 - 1]) {
    const rng = new Rng(seed);
    for (let i = 0; i < 100; i++) expect(dropoutBits(dropoutKey(seed), i)).toBe(rng.nextU32());
  }
  expect(dropoutThreshold(0)).toBe(0);
  expect(dropoutThreshold(0.5)).toBe(2 ** 31);
  expect(dropoutThreshold(1)).toBe(2 ** 32 - 1);
});

test('the GPU mask equals the TS hash on 100 003 elements, and keeps 1 − p of them', async () => {
  const n = 100_003;
  const p = 0.3;
  const seed = 123456789;
  const ys = await inPage(
    async ({ n, p, seed }: { n: number; p: number; seed: number }) => {
      const d = (window as any).ddpm;
      const y = d.scope(() => d.dropout(d.fill([n], 1), p, seed));
      const values = Array.from(await y.read()) as number[];
      y.dispose();
      return values;
    },
    { n, p, seed },
  );
  const key = dropoutKey(seed);
  const threshold = dropoutThreshold(p);
  const kept = Math.fround(1 / (1 - p));
  let mismatches = 0;
  for (let i = 0; i < n; i++) if (ys[i] !== (dropoutBits(key, i) >= threshold ? kept : 0)) mismatches++;
  expect(mismatches).toBe(0);
  const keptCount = ys.filter((v) => v !== 0).length;
  expect(Math.abs(keptCount - n * (1 - p))).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
});

test('dropout is the identity when not training or p = 0, zero at p = 1, and seeds differ', async () => {
  const r = await inPage(async () => {
    const d = (window as any).ddpm;
    const x = d.fill([1000], 2);
    const [y1, y2, zero] = [d.dropout(x, 0.5, 1), d.dropout(x, 0.5, 2), d.dropout(x, 1, 1)];
    const a = Array.from(await y1.read()) as number[];
    const b = Array.from(await y2.read()) as number[];
    const result = {
      evalSame: d.dropout(x, 0.5, 1, { training: false }) === x,
      p0Same: d.dropout(x, 0, 1) === x,
      p1Max: Math.max(...(await zero.read())),
      differing: a.filter((v, i) => v !== b[i]).length,
    };
    [x, y1, y2, zero].forEach((t) => t.dispose());
    return result;
  });
  expect(r.evalSame).toBe(true);
  expect(r.p0Same).toBe(true);
  expect(r.p1Max).toBe(0);
  expect(r.differing).toBeGreaterThan(300);
});
