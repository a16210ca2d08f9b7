// The whole U-Net on the GPU: against diffusers' UNet2DModel (PyTorch fixture), against the
// float64 reference model (same code on the reference backend), a directional finite
// difference of the GPU loss, and leaks and pipeline reuse over training-style steps.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { relError } from '../../src/engine/checks/runner.ts';
import { Rng } from '../../src/engine/random.ts';
import { readSafetensors } from '../../src/engine/safetensors.ts';
import { referenceBackend, refBackward, refVar, type RefVar } from '../../src/model/nn/reference-backend.ts';
import type { Parameter } from '../../src/model/nn/module.ts';
import { UNet } from '../../src/model/unet.ts';
import { preset, type UNetConfig } from '../../src/model/config.ts';
import { inPage } from '../setup/page.ts';
import { tinyFixtureConfig } from './unet-structure.test.ts';

type Arr = { shape: number[]; data: number[] };
type Weights = Record<string, Arr>;

interface GpuRun {
  out: number[];
  gradX: number[];
  grads: Record<string, number[]>;
  weights: Weights;
  loss: number;
}

/**
 * In the page: builds the U-Net (seeded, or with `weights`), runs x, t forward, back-propagates
 * G and returns the output, dL/dx and the requested parameter gradients (all when omitted).
 */
async function runOnGpu(args: {
  config: Partial<UNetConfig>;
  seed: number;
  weights?: Weights;
  x: Arr;
  t: number[];
  g: Arr;
  gradNames?: string[];
}): Promise<GpuRun> {
  return inPage(async ({ config, seed, weights, x, t, g, gradNames }) => {
    const d = (window as any).ddpm;
    const { UNet } = await (window as any).ddpmHarness.importModule('/src/model/unet.ts');
    const model = new UNet(config).build(seed);
    if (weights) model.loadStateDict(new Map(Object.entries(weights)));
    const xt = d.tensor(x.data, x.shape, { requiresGrad: true });
    const tt = d.tensor(t, [t.length]);
    const out = d.scope(() => {
      const y = model.forward(xt, tt);
      d.backward(y, d.tensor(g.data, g.shape));
      return y;
    });
    const named: [string, any][] = [...model.namedParameters()];
    const grads: Record<string, number[]> = {};
    const state: Record<string, { shape: number[]; data: number[] }> = {};
    for (const [name, p] of named) {
      if (!gradNames || gradNames.includes(name)) grads[name] = Array.from(await p.value.grad.read());
      state[name] = { shape: [...p.shape], data: Array.from(await p.value.read()) };
    }
    const outValues = Array.from(await out.read()) as number[];
    const result = {
      out: outValues,
      gradX: Array.from(await xt.grad.read()) as number[],
      grads,
      weights: state,
      loss: outValues.reduce((s: number, v: number, i: number) => s + v * g.data[i]!, 0),
    };
    [out, xt, tt].forEach((u) => u.dispose());
    model.dispose();
    return result;
  }, args);
}

const fixtureDir = new URL('../fixtures/torch-reference/tiny_unet/', import.meta.url);
const arr = (t: { shape: number[]; data: ArrayLike<number> | BigInt64Array | BigUint64Array }): Arr => ({
  shape: t.shape,
  data: Array.from(t.data as ArrayLike<number>, Number),
});

describe('U-Net on the GPU', () => {
  test('matches diffusers UNet2DModel (PyTorch 1.13): output, dL/dx and 21 parameter gradients', async () => {
    const weights = readSafetensors(readFileSync(new URL('diffusion_pytorch_model.safetensors', fixtureDir))).tensors;
    const io = readSafetensors(readFileSync(new URL('io.safetensors', fixtureDir))).tensors;
    const meta = JSON.parse(readFileSync(new URL('io.json', fixtureDir), 'utf8'));
    const gradNames: string[] = meta.grad_params;
    const r = await runOnGpu({
      config: tinyFixtureConfig(),
      seed: 0,
      weights: Object.fromEntries([...weights].map(([n, t]) => [n, arr(t)])),
      x: arr(io.get('x')!),
      t: Array.from(io.get('timesteps_f32')!.data as Float32Array),
      g: arr(io.get('grad_out')!),
      gradNames,
    });
    expect(relError(r.out, arr(io.get('out')!).data)).toBeLessThan(1e-4);
    expect(Math.abs(r.loss - meta.loss_value) / Math.abs(meta.loss_value)).toBeLessThan(1e-4);
    expect(relError(r.gradX, arr(io.get('grad.x')!).data)).toBeLessThan(1e-4);
    for (const name of gradNames) {
      expect(relError(r.grads[name]!, arr(io.get(`grad.${name}`)!).data), name).toBeLessThan(1e-4);
    }
  });

  // 16x16x1, 16 channels, multipliers 1,2, attention at 8x8: tiny-fashion with two heads.
  const small: Partial<UNetConfig> = { ...preset('tiny-fashion'), heads: 2, normGroups: 4 };
  const rng = new Rng(1234);
  const x: Arr = { shape: [2, 1, 16, 16], data: Array.from(rng.normals(512)) };
  const t = [17, 803];
  const g: Arr = { shape: [2, 1, 16, 16], data: Array.from(rng.normals(512)) };

  test('16x16 U-Net: GPU forward and the gradient of every parameter against the float64 reference model', async () => {
    const r = await runOnGpu({ config: small, seed: 99, x, t, g });
    const model = new UNet(small);
    const vars = new Map<Parameter, RefVar>();
    for (const [name, p] of model.namedParameters()) vars.set(p, refVar(p.shape, r.weights[name]!.data));
    const xv = refVar(x.shape, x.data);
    const out = model.forwardWith(referenceBackend(vars), xv, refVar([2], t));
    refBackward(out, { shape: g.shape, data: Float64Array.from(g.data) });
    expect(relError(r.out, out.value.data)).toBeLessThan(1e-4);
    expect(relError(r.gradX, xv.grad!.data)).toBeLessThan(1e-3);
    let worst = 0;
    for (const [name, p] of model.namedParameters()) {
      // Relative, except where the true gradient vanishes (a key bias shifts every logit of a
      // softmax row equally, so its gradient is exactly 0): there, absolute against 1e-3.
      const ref = vars.get(p)!.grad!.data;
      const refNorm = Math.sqrt(ref.reduce((s, v) => s + v * v, 0));
      const e = relError(r.grads[name]!, ref) * (refNorm / Math.max(refNorm, 1e-3));
      worst = Math.max(worst, e);
      expect(e, name).toBeLessThan(1e-3);
    }
    console.log(`16x16 U-Net: worst parameter-gradient error vs float64 reference ${worst.toExponential(2)}`);
  });

  test('16x16 U-Net: directional finite difference of the GPU loss agrees with the gradient', async () => {
    const base = await runOnGpu({ config: small, seed: 5, x, t, g });
    const dir = new Rng(77);
    const direction: Record<string, number[]> = {};
    let dot = 0;
    for (const [name, w] of Object.entries(base.weights)) {
      direction[name] = w.data.map(() => dir.normal());
      direction[name]!.forEach((v, i) => (dot += v * base.grads[name]![i]!));
    }
    const h = 1e-3;
    const shifted = (sign: number): Weights =>
      Object.fromEntries(
        Object.entries(base.weights).map(([n, w]) => [n, { shape: w.shape, data: w.data.map((v, i) => v + sign * h * direction[n]![i]!) }]),
      );
    const plus = await runOnGpu({ config: small, seed: 5, weights: shifted(1), x, t, g });
    const minus = await runOnGpu({ config: small, seed: 5, weights: shifted(-1), x, t, g });
    const fd = (plus.loss - minus.loss) / (2 * h);
    expect(Math.abs(fd - dot) / Math.abs(dot)).toBeLessThan(2e-2);
  });

  test('50 training-style steps leak nothing and compile no pipeline after the first', async () => {
    const r = await inPage(async (config) => {
      const d = (window as any).ddpm;
      const load = (window as any).ddpmHarness.importModule;
      const { UNet } = await load('/src/model/unet.ts');
      const { Adam } = await load('/src/model/train/optimizer.ts');
      const model = new UNet(config).build(3);
      const adam = new Adam(model, { lr: 1e-3, maxGradNorm: 1 });
      const params = model.parameters().map((p: any) => p.value);
      const x = d.randomNormal([2, 1, 16, 16], { seed: 1 });
      const tt = d.tensor([10, 500], [2]);
      const step = () =>
        d.scope(() => {
          const loss = d.mseLoss(model.forward(x, tt), x);
          d.backward(loss);
          adam.update();
          d.zeroGrad(params);
          return loss;
        });
      step().dispose();
      const pipelinesAfterFirst = d.runtime().dispatcher.counters.pipelinesCreated;
      d.flush();
      await d.runtime().device.queue.onSubmittedWorkDone();
      const start = { tensors: d.liveTensorCount(), bytes: d.liveTensorBytes(), inUse: d.runtime().pool.getStats().inUseBytes };
      const losses: number[] = [];
      for (let i = 0; i < 50; i++) {
        const loss = step();
        if (i % 10 === 9) losses.push(await loss.item());
        loss.dispose();
      }
      d.flush();
      await d.runtime().device.queue.onSubmittedWorkDone();
      const end = { tensors: d.liveTensorCount(), bytes: d.liveTensorBytes(), inUse: d.runtime().pool.getStats().inUseBytes };
      const pipelinesAfterAll = d.runtime().dispatcher.counters.pipelinesCreated;
      x.dispose();
      tt.dispose();
      model.dispose();
      return { start, end, pipelinesAfterFirst, pipelinesAfterAll, losses };
    }, small);
    expect(r.end).toEqual(r.start);
    expect(r.pipelinesAfterAll).toBe(r.pipelinesAfterFirst);
    expect(r.losses[r.losses.length - 1]).toBeLessThan(r.losses[0]!); // it learns the identity-ish map
  });
});
