// Leaks and the pipeline cache across repeated training-style steps.

import { expect, test } from 'vitest';
import { inPage } from '../setup/page.ts';

test('200 forward+backward repetitions in a scope leave live bytes and tensors where they started; the second creates no pipeline', async () => {
  const r = await inPage(async () => {
    const d = (window as any).ddpm;
    const rng = new d.Rng(7);
    const x = d.tensor(Float32Array.from(rng.normals(6 * 5)), [6, 5]);
    const w = d.tensor(Float32Array.from(rng.normals(5 * 9)), [5, 9], { requiresGrad: true });
    const b = d.tensor(Float32Array.from(rng.normals(9)), [9], { requiresGrad: true });
    const target = d.tensor(Float32Array.from(rng.normals(6 * 3)), [6, 3]);
    const step = () =>
      d.scope(() => {
        const h = d.silu(d.add(d.matmul(x, w), b));
        const y = d.logSoftmax(d.slice(h, 1, 2, 5));
        const z = d.concat([y, d.transpose(d.reshape(d.sum(h, [1], true), [1, 6]))], 1);
        const loss = d.mseLoss(d.slice(z, 1, 0, 3), target);
        d.zeroGrad([w, b]);
        d.backward(loss);
        return loss;
      });
    const counters = () => d.runtime().dispatcher.counters;
    const first = step();
    first.dispose();
    const afterFirst = counters().pipelinesCreated;
    step().dispose();
    const afterSecond = counters().pipelinesCreated;
    d.flush();
    await d.runtime().device.queue.onSubmittedWorkDone();
    const start = { bytes: d.liveTensorBytes(), count: d.liveTensorCount(), inUse: d.runtime().pool.getStats().inUseBytes };
    let lastLoss = 0;
    for (let i = 0; i < 200; i++) {
      const loss = step();
      if (i === 199) lastLoss = await loss.item();
      loss.dispose();
    }
    d.flush();
    await d.runtime().device.queue.onSubmittedWorkDone();
    const end = { bytes: d.liveTensorBytes(), count: d.liveTensorCount(), inUse: d.runtime().pool.getStats().inUseBytes };
    const gradsPresent = w.grad !== null && b.grad !== null;
    [x, w, b, target].forEach((t) => t.dispose());
    return { start, end, afterFirst, afterSecond, lastLoss, gradsPresent, final: counters().pipelinesCreated };
  });
  expect(r.gradsPresent).toBe(true);
  expect(Number.isFinite(r.lastLoss)).toBe(true);
  expect(r.end).toEqual(r.start);
  expect(r.afterSecond).toBe(r.afterFirst);
  expect(r.final).toBe(r.afterFirst);
});

test('a scope disposes intermediates but keeps what it returns and what was kept', async () => {
  const r = await inPage(() => {
    const d = (window as any).ddpm;
    const before = d.liveTensorCount();
    let kept: any;
    const out = d.scope(() => {
      const a = d.tensor([1, 2, 3]);
      const b = d.exp(a);
      kept = d.neg(b).keep();
      return { result: d.add(a, b) };
    });
    const count = d.liveTensorCount() - before;
    out.result.dispose();
    kept.dispose();
    return { count, after: d.liveTensorCount() - before };
  });
  expect(r.count).toBe(2);
  expect(r.after).toBe(0);
});

test('the leak report lists live tensors with shape and origin', async () => {
  const r = await inPage(() => {
    const d = (window as any).ddpm;
    const t = d.tensor([1, 2, 3, 4, 5, 6], [2, 3], { name: 'leaky' });
    const s = d.sum(t, [1]);
    const report = d.leakReport().filter((e: any) => e.id === t.id || e.id === s.id);
    t.dispose();
    s.dispose();
    return report;
  });
  expect(r).toEqual([
    { id: expect.any(Number), shape: [2, 3], origin: 'tensor', name: 'leaky', bytes: 24 },
    { id: expect.any(Number), shape: [2], origin: 'sum', bytes: 8 },
  ]);
});
