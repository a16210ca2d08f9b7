// Tape behaviour: accumulation, noGrad, detach, and the errors users meet first.

import { expect, test } from 'vitest';
import { inPage } from '../setup/page.ts';

test('a tensor used twice accumulates both gradients; repeated backward adds to .grad', async () => {
  const r = await inPage(async () => {
    const d = (window as any).ddpm;
    const x = d.tensor([1, -2, 3], [3], { requiresGrad: true });
    d.scope(() => d.backward(d.sum(d.mul(x, x)))); // d/dx Σx² = 2x
    const once = Array.from(await x.grad.read());
    d.scope(() => d.backward(d.sum(d.add(x, d.mulScalar(x, 3))))); // + 4
    const twice = Array.from(await x.grad.read());
    x.dispose();
    return { once, twice };
  });
  expect(r.once).toEqual([2, -4, 6]);
  expect(r.twice).toEqual([6, 0, 10]);
});

test('noGrad records nothing and detach stops the gradient', async () => {
  const r = await inPage(async () => {
    const d = (window as any).ddpm;
    const x = d.tensor([1, 2], [2], { requiresGrad: true });
    const y = d.noGrad(() => d.exp(x));
    const noGradRecorded = y.requiresGrad;
    d.scope(() => d.backward(d.sum(d.add(d.mul(x, d.detach(x)), x)))); // d/dx (x·const + x) = x + 1
    const g = Array.from(await x.grad.read());
    x.dispose();
    y.dispose();
    return { noGradRecorded, g };
  });
  expect(r.noGradRecorded).toBe(false);
  expect(r.g).toEqual([2, 3]);
});

test('bad input raises clear errors at the call that made it', async () => {
  const messages = await inPage(async () => {
    const d = (window as any).ddpm;
    const catchMessage = (fn: () => void): string => {
      try {
        fn();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const a = d.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = d.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [4, 3]);
    const gone = d.tensor([1, 2], [2]);
    gone.dispose();
    const w = d.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const out = {
      broadcast: catchMessage(() => d.add(a, b)),
      matmul: catchMessage(() => d.matmul(a, b)),
      disposed: catchMessage(() => d.exp(gone)),
      nonScalar: catchMessage(() => d.scope(() => d.backward(d.mul(w, a)))),
      noGrad: catchMessage(() => d.backward(d.sum(a))),
      reshape: catchMessage(() => d.reshape(a, [4, 2])),
      concat: catchMessage(() => d.concat([a, d.tensor([1, 2], [1, 2])], 0)),
      slice: catchMessage(() => d.slice(a, 1, 2, 7)),
      axis: catchMessage(() => d.sum(a, [2])),
      data: catchMessage(() => d.tensor([1, 2, 3], [2, 2])),
      mse: catchMessage(() => d.mseLoss(a, b)),
      read: await gone.read().then(
        () => 'no error',
        (e: Error) => e.message,
      ),
    };
    [a, b, w].forEach((t) => t.dispose());
    return out;
  });
  expect(messages.broadcast).toBe('add: cannot broadcast a [2,3] with b [4,3] (axis 0: 2 vs 4)');
  expect(messages.matmul).toBe('matmul: inner dimensions differ: a [2,3] has K=3, b [4,3] has K=4');
  expect(messages.disposed).toMatch(/^exp: argument 'x' \(tensor #\d+ \[2\], tensor\) was disposed$/);
  expect(messages.nonScalar).toMatch(/^backward: Tensor#\d+\[2,3\] \(mul\) is not a scalar \(shape \[2,3\]\); pass the upstream gradient/);
  expect(messages.noGrad).toMatch(/does not require a gradient/);
  expect(messages.reshape).toBe('reshape: x [2,3] has 6 elements, shape [4,2] needs 8');
  expect(messages.concat).toBe('concat: tensors[1] [1,2] does not match tensors[0] [2,3] outside axis 0');
  expect(messages.slice).toBe('slice: range [2, 7) is out of bounds for axis 1 of x [2,3]');
  expect(messages.axis).toBe('sum: axis 2 is out of range for rank 2');
  expect(messages.data).toBe('tensor: 3 values do not fill shape [2,2] (4 elements)');
  expect(messages.mse).toBe('mseLoss: pred [2,3] and target [4,3] must have the same shape');
  expect(messages.read).toMatch(/was disposed/);
});

test('a lost device is surfaced as an event and later ops say so', async () => {
  const r = await inPage(async () => {
    const d = (window as any).ddpm;
    const original = d.runtime();
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    const rt = await d.initEngine(device, adapter);
    const lost = new Promise<any>((resolve) => rt.addEventListener('devicelost', (e: any) => resolve(e.detail)));
    device.destroy();
    const detail = await lost;
    let message = '';
    try {
      d.tensor([1, 2, 3]);
    } catch (e) {
      message = (e as Error).message;
    }
    d.useRuntime(original);
    const stillWorks = Array.from(await d.exp(d.tensor([0])).read());
    return { reason: detail.reason, message, stillWorks };
  });
  expect(r.reason).toBe('destroyed');
  expect(r.message).toMatch(/^the GPU device was lost \(destroyed: .*\); call initEngine\(\) again and resume from the last checkpoint$/);
  expect(r.stillWorks).toEqual([1]);
});
