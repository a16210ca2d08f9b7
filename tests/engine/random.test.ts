// GPU random streams equal the CPU Rng streams (same hash), up to float32 rounding, and have the
// right statistics.

import { expect, test } from 'vitest';
import { deriveSeed, Rng } from '../../src/engine/random.ts';
import { inPage } from '../setup/page.ts';

test('randomNormal / randomUniform / randomInteger on the GPU reproduce Rng(seed) and are well distributed', async () => {
  const n = 4096;
  const r = await inPage(async (count) => {
    const d = (window as any).ddpm;
    const normal = d.randomNormal([count], { seed: 42 });
    const uniform = d.randomUniform([count], { seed: 7, counter: 100 });
    const ints = d.randomInteger([count], { seed: 9 }, 1000);
    const out = {
      normal: Array.from(await normal.read()) as number[],
      uniform: Array.from(await uniform.read()) as number[],
      ints: Array.from(await ints.read()) as number[],
    };
    [normal, uniform, ints].forEach((t) => t.dispose());
    return out;
  }, n);
  const cpuNormal = new Rng(42);
  const cpuUniform = new Rng(7, 100);
  const cpuInts = new Rng(9);
  let worstNormal = 0;
  let worstUniform = 0;
  for (let i = 0; i < n; i++) {
    worstNormal = Math.max(worstNormal, Math.abs(r.normal[i]! - cpuNormal.normal()));
    worstUniform = Math.max(worstUniform, Math.abs(r.uniform[i]! - cpuUniform.uniform()));
    expect(r.ints[i]).toBe(cpuInts.int(1000));
  }
  expect(worstUniform).toBeLessThan(1e-7);
  // f32 log and cos on the GPU: the tails (u near 0, |z| > 3) differ most.
  expect(worstNormal).toBeLessThan(2e-3);
  const mean = r.normal.reduce((a, b) => a + b, 0) / n;
  const variance = r.normal.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
  expect(Math.abs(variance - 1)).toBeLessThan(0.1);
});

test('deriveSeed: deterministic, and distinct paths give distinct seeds', () => {
  expect(deriveSeed(7, 'noise', 3)).toBe(deriveSeed(7, 'noise', 3));
  const seen = new Map<number, string>();
  const add = (seed: number, label: string) => {
    expect(seen.get(seed), `${label} repeats the seed of ${seen.get(seed)}`).toBeUndefined();
    seen.set(seed, label);
  };
  for (const seed of [0, 1, 0xffffffff]) {
    add(deriveSeed(seed), `${seed}`);
    for (const purpose of ['noise', 'timesteps', 'dropout']) {
      for (let step = 0; step < 300; step++) add(deriveSeed(seed, purpose, step), `${seed}/${purpose}/${step}`);
    }
  }
  // Order, types and grouping of the parts count; nesting does not line up streams across levels.
  expect(deriveSeed(5, 1, 2)).not.toBe(deriveSeed(5, 2, 1));
  expect(deriveSeed(5, 1)).not.toBe(deriveSeed(5, '1'));
  expect(deriveSeed(5, 'ab')).not.toBe(deriveSeed(5, 'a', 'b'));
  expect(deriveSeed(5, 0)).not.toBe(deriveSeed(5));
  expect(deriveSeed(deriveSeed(5, 'dropout', 0), 'layer', 1)).not.toBe(deriveSeed(deriveSeed(5, 'dropout', 1), 'layer', 0));
  expect(deriveSeed(5, 2 ** 32)).not.toBe(deriveSeed(5, 0));
  expect(() => deriveSeed(5, -1)).toThrow('non-negative integer');
  expect(() => deriveSeed(5, 0.5)).toThrow('non-negative integer');
  // Unsigned 32-bit seeds whose bits are balanced.
  const seeds = Array.from({ length: 4096 }, (_, i) => deriveSeed(9, 'step', i));
  expect(seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32)).toBe(true);
  for (let bit = 0; bit < 32; bit++) {
    const ones = seeds.filter((s) => (s >>> bit) & 1).length / seeds.length;
    expect(Math.abs(ones - 0.5), `bit ${bit}`).toBeLessThan(0.05);
  }
});
