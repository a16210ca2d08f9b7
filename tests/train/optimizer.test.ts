// Adam against torch.optim.Adam (two steps from the PyTorch fixture), AdamW's decoupled decay,
// global-norm clipping and the EMA, all through the fused arena kernels.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { relError } from '../../src/engine/checks/runner.ts';
import { readSafetensors } from '../../src/engine/safetensors.ts';
import { inPage } from '../setup/page.ts';

const fixture = readSafetensors(
  readFileSync(new URL('../fixtures/torch-reference/ops.safetensors', import.meta.url)),
).tensors;
const values = (name: string) => Array.from(fixture.get(name)!.data as Float32Array);

/** In the page: a one-parameter module (plus a second one) trained by the given steps. */
type Run = { param: number[]; m: number[]; v: number[]; other: number[]; ema: number[] };

async function runOptimizer(args: {
  param0: number[];
  grads: number[][];
  options: Record<string, unknown>;
  emaDecay?: number;
}): Promise<Run> {
  return inPage(async ({ param0, grads, options, emaDecay }) => {
    const d = (window as any).ddpm;
    const load = (window as any).ddpmHarness.importModule;
    const { Module } = await load('/src/model/nn/module.ts');
    const { Adam, Ema } = await load('/src/model/train/optimizer.ts');
    class Pair extends Module {
      w = this.param('w', [4, 5], { kind: 'zeros' });
      u = this.param('u', [3], { kind: 'ones' });
    }
    const model = new Pair().build(0);
    model.loadStateDict(new Map([
      ['w', { shape: [4, 5], data: param0 }],
      ['u', { shape: [3], data: [1, 2, 3] }],
    ]));
    const adam = new Adam(model, options);
    const ema = emaDecay === undefined ? null : new Ema(model, emaDecay);
    for (const g of grads) {
      model.w.value.grad = d.tensor(g, [4, 5]);
      adam.update();
      ema?.update();
      d.zeroGrad([model.w.value]);
    }
    const arena = model.arena;
    const region = async (buffer: GPUBuffer, i: number) => {
      const e = arena.entries[i];
      const t = arena.flatTensor(buffer, 'read');
      const all = await t.read();
      t.dispose();
      return Array.from(all.slice(e.offset, e.offset + e.size));
    };
    const out = {
      param: Array.from(await model.w.value.read()),
      other: Array.from(await model.u.value.read()),
      m: await region(adam.m, 0),
      v: await region(adam.v, 0),
      ema: ema ? await region(ema.buffer, 0) : [],
    } as Run;
    model.dispose();
    return out;
  }, args);
}

test('Adam matches torch.optim.Adam over two steps (weights and both moments)', async () => {
  const r = await runOptimizer({
    param0: values('adam.param0'),
    grads: [values('adam.grad1'), values('adam.grad2')],
    options: { lr: 1e-3 },
  });
  expect(relError(r.param, values('adam.param2'))).toBeLessThan(1e-6);
  expect(relError(r.m, values('adam.exp_avg2'))).toBeLessThan(1e-6);
  expect(relError(r.v, values('adam.exp_avg_sq2'))).toBeLessThan(1e-6);
  expect(r.other).toEqual([1, 2, 3]); // no gradient: Adam moves nothing
});

test('AdamW decays the weights directly; global-norm clipping rescales the gradient; EMA follows', async () => {
  const p0 = Array.from({ length: 20 }, (_, i) => (i - 10) / 7);
  const g = Array.from({ length: 20 }, (_, i) => ((i * 7) % 5) - 2);
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  const r = await runOptimizer({
    param0: p0,
    grads: [g],
    options: { lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true, maxGradNorm: 1 },
    emaDecay: 0.9,
  });
  // One step: m̂ = ĝ, v̂ = ĝ², so the update is lr·ĝ/(|ĝ| + eps) with ĝ = g/‖g‖ (clipped to norm 1).
  const expected = p0.map((p, i) => {
    const gc = g[i]! * Math.min(1, 1 / (norm + 1e-6));
    return p - 0.1 * 0.5 * p - (0.1 * gc) / (Math.abs(gc) + 1e-8);
  });
  expect(relError(r.param, expected)).toBeLessThan(1e-6);
  const ema = p0.map((p, i) => 0.9 * p + 0.1 * expected[i]!);
  expect(relError(r.ema, ema)).toBeLessThan(1e-6);
});
