// Capture once, replay after (src/engine/replay.ts): a replayed run gives bit-identical results
// to the eager one, for new inputs; its static memory is never handed to anyone else while it
// lives and returns to the pool when it is disposed; work on frozen buffers alone runs once; what
// it cannot do is refused. Every sampler and the bound replay their network forward by default
// and give the same results as op-by-op execution.

import { describe, expect, test } from 'vitest';
import { inPage } from '../setup/page.ts';

describe('CapturedRun', () => {
  test('replays a GPU function on new inputs bit-identically, keeps its memory to itself and gives it back', async () => {
    const r = await inPage(async () => {
      const e = (window as any).ddpm;
      const runtime = e.runtime;
      const inUseBefore = runtime().pool.getStats().inUseBytes;
      // A chain with a constant (uploaded before), a reduction and a broadcast: y = clamp(x·w + c, 0, 10) + Σx.
      const c = e.tensor([0.5, -0.25, 1], [1, 3]);
      const fn = (x: any, w: any) => {
        const y = e.add(e.clamp(e.add(e.matmul(x, w), c), 0, 10), e.sum(x));
        return e.mul(y, 2);
      };
      const xs = (seed: number) => e.tensor(Array.from({ length: 8 }, (_, i) => Math.sin(seed * 7 + i)), [4, 2]);
      const w = e.tensor([0.3, -1.2, 0.8, 2.0, 0.1, -0.4], [2, 3]);
      const eager = async (x: any) => {
        const y = e.scope(() => fn(x, w));
        const v = [...(await y.read())];
        y.dispose();
        return v;
      };
      const x0 = xs(1);
      const { run, result } = e.CapturedRun.capture([x0, w], fn);
      const first = [...(await result.read())];
      result.dispose();
      const dispatches = run.dispatches;
      const memory = run.memory;
      const replays: { replayed: number[]; eager: number[] }[] = [];
      for (const seed of [2, 3]) {
        // Other work in between takes pool buffers: none of them may be the run's.
        const noise = [e.fill([4096], seed), e.fill([4, 3], -seed)];
        const x = xs(seed);
        const y = run.replay([x, w]);
        replays.push({ replayed: [...(await y.read())], eager: await eager(x) });
        [...noise, x, y].forEach((t) => t.dispose());
      }
      let mismatch = '';
      const wrongShape = e.zeros([3, 2]);
      try {
        run.replay([wrongShape, w]);
      } catch (err) {
        mismatch = (err as Error).message;
      }
      wrongShape.dispose();
      run.dispose();
      let reading: Promise<unknown> = Promise.resolve();
      const reader = e.CapturedRun.capture([x0], (x: any) => {
        reading = x.read();
        return e.mul(x, 1);
      });
      const readBack = await reading.then(
        () => '',
        (err: Error) => err.message,
      );
      reader.run.dispose();
      reader.result.dispose();
      const firstEager = await eager(x0);
      // Data uploaded inside would be the capture's own on every replay: refused, the pool left as it was.
      let uploads = '';
      try {
        e.CapturedRun.capture([x0], (x: any) => e.mul(x, e.tensor([1, 2, 3, 4, 5, 6, 7, 8], [4, 2])));
      } catch (err) {
        uploads = (err as Error).message;
      }
      x0.dispose();
      w.dispose();
      c.dispose();
      e.flush();
      return { first, firstEager, replays, dispatches, memory, mismatch, readBack, uploads, leaked: runtime().pool.getStats().inUseBytes - inUseBefore };
    });
    expect(r.first).toEqual(r.firstEager);
    for (const { replayed, eager } of r.replays) expect(replayed).toEqual(eager);
    expect(r.replays[0]!.replayed).not.toEqual(r.replays[1]!.replayed);
    expect(r.dispatches).toBeGreaterThanOrEqual(5);
    expect(r.memory.planned).toBeLessThanOrEqual(r.memory.captured);
    expect(r.mismatch).toContain('inputs [3,2], [2,3] differ from the captured [4,2], [2,3]');
    expect(r.readBack).toContain('a captured run cannot read back');
    expect(r.uploads).toContain('uploads data into 1 tensor(s) it does not keep');
    expect(r.leaked).toBe(0);
  });

  test('live uniforms are read again at each replay: new seeds, rates and decays without any op running', async () => {
    const r = await inPage(async () => {
      const e = (window as any).ddpm;
      let step = 0;
      // Noise from a live seed, dropout with a live seed, an EMA with a live decay: the kinds a training step has.
      const seed = e.live('seed', () => 1000 + step);
      const decay = e.live('decay', () => 0.5 + 0.1 * step);
      const ema = e.zeros([64]);
      const fn = (x: any) => {
        const noisy = e.add(x, e.randomNormal([64], { seed }));
        const dropped = e.dropout(noisy, 0.5, seed.map((s: number) => s + 7));
        e.emaUpdate(ema, dropped, decay);
        return e.mul(dropped, 1);
      };
      const x = e.tensor(Array.from({ length: 64 }, (_, i) => i / 64), [64]);
      const outputs: { replayed: number[]; eager: number[]; emaReplayed: number[]; emaEager: number[] }[] = [];
      const { run, result } = e.CapturedRun.capture([x], fn);
      result.dispose();
      for (step = 1; step <= 3; step++) {
        const before = e.tensor([...(await ema.read())], [64]);
        const y = run.replay([x]);
        const replayed = [...(await y.read())];
        const emaReplayed = [...(await ema.read())];
        // The same step op by op, from the EMA the replay started from.
        e.runtime().dispatcher.copy(before.storage.buffer, 0, ema.storage.buffer, 0, 256);
        const z = e.scope(() => fn(x));
        const eager = [...(await z.read())];
        const emaEager = [...(await ema.read())];
        [y, z, before].forEach((t: any) => t.dispose());
        outputs.push({ replayed, eager, emaReplayed, emaEager });
      }
      run.dispose();
      [x, ema].forEach((t: any) => t.dispose());
      return { outputs, liveDispatches: run.dispatches };
    });
    for (const o of r.outputs) {
      expect(o.replayed).toEqual(o.eager);
      expect(o.emaReplayed).toEqual(o.emaEager);
    }
    expect(r.outputs[0]!.replayed).not.toEqual(r.outputs[1]!.replayed);
  });
});

test('work on frozen buffers alone runs once, at the capture; writing a frozen buffer is refused', async () => {
  const r = await inPage(async () => {
    const e = (window as any).ddpm;
    const w = e.tensor([0.3, -1.2, 0.8, 2.0, 0.1, -0.4], [2, 3]);
    // w·2 + 1 reads only w: invariant while w is frozen; the matmul reads x.
    const fn = (x: any) => e.matmul(x, e.affine(w, 2, 1));
    const x = e.tensor([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const plain = e.CapturedRun.capture([x], fn);
    const frozen = e.CapturedRun.capture([x], fn, { frozen: [w] });
    const x2 = e.tensor([8, -7, 6, -5, 4, -3, 2, -1], [4, 2]);
    const [a, b] = [plain.run.replay([x2]), frozen.run.replay([x2])];
    const eager = e.scope(() => fn(x2));
    const values = [await a.read(), await b.read(), await eager.read()].map((v: Float32Array) => [...v]);
    const counts = [plain.run.dispatches, frozen.run.dispatches];
    [a, b, eager, plain.result, frozen.result].forEach((t: any) => t.dispose());
    plain.run.dispose();
    frozen.run.dispose();
    let refused = '';
    try {
      e.CapturedRun.capture([x], (xs: any) => {
        e.runtime().dispatcher.clear(w.storage.buffer, 0, 4);
        return e.mul(xs, 1);
      }, { frozen: [w] });
    } catch (err) {
      refused = (err as Error).message;
    }
    [w, x, x2].forEach((t: any) => t.dispose());
    return { values, counts, refused };
  });
  expect(r.values[0]).toEqual(r.values[2]);
  expect(r.values[1]).toEqual(r.values[2]);
  expect(r.counts[1]).toBe(r.counts[0]! - 1);
  expect(r.refused).toContain('writes a buffer declared frozen');
});

describe('sampling replays the network forward', () => {
  test('DDPM, DDIM (η = 0.5) and DPM-Solver++(2M) draw bit-identical images replayed and op by op', async () => {
    const r = await inPage(async () => {
      const h = (window as any).ddpmHarness;
      const { UNet } = await h.importModule('/src/model/unet.ts');
      const { preset } = await h.importModule('/src/model/config.ts');
      const { GaussianDiffusion } = await h.importModule('/src/model/diffusion/gaussian-diffusion.ts');
      const { sample } = await h.importModule('/src/model/diffusion/sample.ts');
      const runtime = (window as any).ddpm.runtime;
      const model = new UNet({ ...preset('fashion-16'), imageSize: 8 }).build(11).eval();
      const diffusion = new GaussianDiffusion({ objective: 'v', schedule: { type: 'linear', T: 12 } });
      const out: Record<string, { replay: number[]; eager: number[]; dispatches: number[] }> = {};
      for (const [sampler, extra] of [
        ['ddpm', {}],
        ['ddim', { steps: 5, eta: 0.5 }],
        ['dpm-solver', { steps: 5 }],
      ] as const) {
        const draw = async (execution: string) => {
          const before = runtime().dispatcher.counters.dispatches;
          const images = await sample(model, diffusion, { n: 3, sampler, seed: 4, precision: 'f32', execution, ...extra });
          return { images: [...images], dispatches: runtime().dispatcher.counters.dispatches - before };
        };
        const replay = await draw('replay');
        const eager = await draw('eager');
        out[sampler] = { replay: replay.images, eager: eager.images, dispatches: [replay.dispatches, eager.dispatches] };
      }
      model.dispose();
      diffusion.dispose();
      return out;
    });
    for (const [sampler, { replay, eager, dispatches }] of Object.entries(r)) {
      expect(replay, sampler).toEqual(eager);
      expect(replay.every(Number.isFinite), sampler).toBe(true);
      // Less work: what reads only the frozen weights (the row kernel's filter packing) ran once, at the capture.
      expect(dispatches[0], sampler).toBeLessThan(dispatches[1]!);
    }
  });
});

describe('the bound replays its network forward', () => {
  test('every term of the bound is bit-identical replayed and op by op, a smaller last batch recaptured', async () => {
    const images = Array.from({ length: 3 * 8 * 8 }, (_, i) => Math.round(Math.sin(i * 0.7) * 127.5) / 127.5);
    const r = await inPage(async (data) => {
      const load = (window as any).ddpmHarness.importModule;
      const { UNet } = await load('/src/model/unet.ts');
      const { preset } = await load('/src/model/config.ts');
      const { GaussianDiffusion } = await load('/src/model/diffusion/gaussian-diffusion.ts');
      const { evaluateBound } = await load('/src/model/diffusion/evaluate.ts');
      const pool = () => (window as any).ddpm.runtime().pool.getStats().inUseBytes;
      const model = new UNet({ ...preset('fashion-16'), imageSize: 8 }).build(2).eval();
      const diffusion = new GaussianDiffusion({ schedule: { type: 'linear', T: 16 } });
      // Three images in batches of two: the last batch of one is a new shape.
      const dataset = { images: Float32Array.from(data), count: 3, shape: [1, 8, 8] };
      // Op by op first: it makes the diffusion's lazily kept tables, which are not the replay's to free.
      const eager = await evaluateBound(model, diffusion, dataset, { batch: 2, terms: 6, seed: 9, execution: 'eager' });
      const before = pool();
      const replay = await evaluateBound(model, diffusion, dataset, { batch: 2, terms: 6, seed: 9 });
      (window as any).ddpm.flush();
      const leaked = pool() - before;
      model.dispose();
      diffusion.dispose();
      return { replay, eager, leaked };
    }, images);
    expect(r.replay).toEqual(r.eager);
    expect(r.replay.terms.every((t: { bpd: number }) => Number.isFinite(t.bpd))).toBe(true);
    expect(r.leaked).toBe(0);
  });
});

describe('the quality classifier replays its network', () => {
  test('features and class probabilities are bit-identical replayed and op by op, a smaller last batch recaptured', async () => {
    const r = await inPage(async () => {
      const load = (window as any).ddpmHarness.importModule;
      const { ImageClassifier } = await load('/src/model/quality/classifier.ts');
      const { classify } = await load('/src/model/quality/train-classifier.ts');
      const model = new ImageClassifier({ imageSize: 28, channels: 1, classes: 10, widths: [8, 8, 16, 16], featureDim: 32, groups: 4 }).build(3);
      const count = 5;
      const images = Float32Array.from({ length: count * 28 * 28 }, (_, i) => Math.sin(i * 0.37));
      // Batches of 2, 2 and 1.
      const replay = await classify(model, images, count, 2);
      const eager = await classify(model, images, count, 2, 'eager');
      model.dispose();
      return { replay: { f: [...replay.features], p: [...replay.probs] }, eager: { f: [...eager.features], p: [...eager.probs] } };
    });
    expect(r.replay).toEqual(r.eager);
    expect(r.replay.p.every(Number.isFinite)).toBe(true);
  });
});
