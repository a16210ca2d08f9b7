// cast: the shared check cases (f32 → f16 → f32 round trips), the gradient through a round trip
// and the argument errors.

import { expect, test } from 'vitest';
import { castChecks } from '../../src/engine/checks/cast.ts';
import { roundToHalf } from '../../src/engine/dtype.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(castChecks);

test('the gradient through an f32 → f16 → f32 round trip is the upstream gradient rounded to f16', async () => {
  const gy = Array.from({ length: 9 }, (_, i) => (i - 4) * 0.1234567);
  const r = await inPage(async ({ gy }: { gy: number[] }) => {
    const d = (window as any).ddpm;
    const x = d.tensor(gy.map((_: number, i: number) => i), [9], { requiresGrad: true });
    const y = d.scope(() => {
      const half = d.cast(x, 'f16');
      const back = d.cast(half, 'f32');
      d.backward(back, d.tensor(gy, [9]));
      return { back, dtypes: [half.dtype, back.dtype] };
    });
    const grad = Array.from((await x.grad.read()) as Float32Array);
    const dtypes = y.dtypes;
    y.back.dispose();
    x.dispose();
    return { grad, dtypes };
  }, { gy });
  expect(r.dtypes).toEqual(['f16', 'f32']);
  // Each the nearest f16 or its neighbour (WGSL lets a conversion land on either): within 2^-10.
  r.grad.forEach((g, i) => expect(Math.abs(g - roundToHalf(gy[i]!))).toBeLessThanOrEqual(Math.abs(gy[i]!) * 2 ** -10));
  expect(r.grad).not.toEqual(gy.map((v) => Math.fround(v)));
});

test('cast refuses an unknown dtype, an f16 tensor to need a gradient, an op its mixed dtypes', async () => {
  const messages = await inPage(() => {
    const d = (window as any).ddpm;
    const x = d.tensor([1, 2], [2]);
    const out: string[] = [];
    const half = d.tensor([1, 2], [2], { dtype: 'f16' });
    const attempts = [
      () => d.cast(x, 'f64'),
      () => d.tensor([1], [1], { dtype: 'f16', requiresGrad: true }),
      () => d.zeros([1], { dtype: 'f16', requiresGrad: true }),
      () => d.add(half, x),
      () => d.sum(half),
    ];
    for (const f of attempts) {
      try {
        f();
        out.push('no error');
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    x.dispose();
    half.dispose();
    return out;
  });
  expect(messages).toEqual([
    'cast: dtype must be one of f32, f16, got f64',
    'tensor: an f16 tensor cannot require gradients (f16 is for sampling; train in f32)',
    'zeros: an f16 tensor cannot require gradients (f16 is for sampling; train in f32)',
    "add: a is f16 but b is f32: cast one (cast(t, 'f16'))",
    expect.stringMatching(/^kernel 'reduce-sum[a-z-]*' takes f32 in binding 'xs', got f16 Tensor#\d+\[2\] \(tensor\): this op has no f16 kernel \(cast\(t, 'f32'\) first\)$/),
  ]);
});
