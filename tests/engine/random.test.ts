// GPU random streams equal the CPU Rng streams (same hash), up to float32 rounding, and have the
// right statistics.

import { expect, test } from 'vitest';
import { Rng } from '../../src/engine/random.ts';
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
