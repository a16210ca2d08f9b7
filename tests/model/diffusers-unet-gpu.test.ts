// A diffusers UNet2DModel folder, made here from the fixture's documented constructor arguments
// (every other field absent, so diffusers' defaults) and its weights, loaded through the folder
// reader and run on the GPU: output, dL/dx and the listed parameter gradients against PyTorch.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { relError } from '../../src/engine/checks/runner.ts';
import { importDiffusers } from '../../src/app/diffusers/pipeline.ts';
import { folderSource } from '../../src/cli/model-source.ts';
import { diffusersDdpmCoefficients } from '../../src/model/diffusion/diffusers-steps.ts';
import { referenceSamplerStep } from '../../src/model/diffusion/sampler-step.ts';
import { makeSchedule } from '../../src/model/diffusion/schedule.ts';
import { Rng } from '../../src/engine/random.ts';
import { inPage } from '../setup/page.ts';
import { tinyUnetIo, tinyUnetMeta, writeTinyUnetFolder } from '../setup/tiny-unet.ts';

const io = tinyUnetIo;
const meta = tinyUnetMeta;
const arr = (name: string) => Array.from(io.get(name)!.data as Float32Array);

describe('a diffusers UNet2DModel folder on the GPU', () => {
  test('matches PyTorch: output (two timesteps and a scalar one), dL/dx and every listed parameter gradient within 1e-4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddpm-unet2d-'));
    writeTinyUnetFolder(dir);
    const imported = importDiffusers(folderSource(dir));
    const weights = Object.fromEntries([...imported.weights].map(([n, t]) => [n, { shape: t.shape, data: Array.from(t.data) }]));
    const gradNames: string[] = meta.grad_params;
    const r = await inPage(
      async ({ config, weights, x, t, g, gradNames }) => {
        const d = (window as any).ddpm;
        const { UNet } = await (window as any).ddpmHarness.importModule('/src/model/unet.ts');
        const model = new UNet(config).build(0);
        model.loadStateDict(new Map(Object.entries(weights)));
        const xt = d.tensor(x, [2, 3, 8, 8], { requiresGrad: true });
        const out = d.scope(() => {
          const y = model.forward(xt, d.tensor(t, [2]));
          d.backward(y, d.tensor(g, [2, 3, 8, 8]));
          return y;
        });
        const at500 = d.noGrad(() => d.scope(() => model.forward(xt, d.tensor([500, 500], [2]))));
        const grads: Record<string, number[]> = {};
        for (const [name, p] of model.namedParameters()) if (gradNames.includes(name)) grads[name] = Array.from(await p.value.grad.read());
        const result = { out: Array.from(await out.read()), at500: Array.from(await at500.read()), gradX: Array.from(await xt.grad.read()), grads };
        [out, at500, xt].forEach((u) => u.dispose());
        model.dispose();
        return result;
      },
      { config: imported.config.model, weights, x: arr('x'), t: arr('timesteps_f32'), g: arr('grad_out'), gradNames },
    );
    const errors: Record<string, number> = {
      out: relError(r.out as number[], arr('out')),
      out_t500: relError(r.at500 as number[], arr('out_t500')),
      'grad.x': relError(r.gradX as number[], arr('grad.x')),
    };
    for (const name of gradNames) errors[`grad.${name}`] = relError(r.grads[name]!, arr(`grad.${name}`));
    const worst = Object.entries(errors).sort(([, a], [, b]) => b - a)[0]!;
    console.log(`diffusers folder on the GPU vs PyTorch: out ${errors.out!.toExponential(2)}, out_t500 ${errors.out_t500!.toExponential(2)}, dL/dx ${errors['grad.x']!.toExponential(2)}, worst of ${gradNames.length} parameter gradients ${worst[0]} ${worst[1].toExponential(2)}`);
    for (const [name, e] of Object.entries(errors)) expect(e, name).toBeLessThan(1e-4);
  });

  test("the fused GPU step clips x0 to diffusers' clip_sample_range (0.5 here) as the float64 step does", async () => {
    const rng = new Rng(11);
    const n = 2 * 3 * 8 * 8;
    const xt = Array.from(rng.normals(n));
    const out = Array.from(rng.normals(n));
    const noise = Array.from(rng.normals(n));
    const k = diffusersDdpmCoefficients(makeSchedule({ type: 'linear', T: 1000 }), 40, 20, 'fixed-small');
    const gpu = await inPage(
      async ({ xt, out, noise, k }) => {
        const d = (window as any).ddpm;
        const { samplerStep } = await (window as any).ddpmHarness.importModule('/src/model/diffusion/sampler-step.ts');
        const r = d.scope(() =>
          samplerStep(d.tensor(xt, [2, 3, 8, 8]), d.tensor(out, [2, 3, 8, 8]), k, {
            objective: 'eps',
            clipX0: true,
            clipRange: 0.5,
            learnedVariance: false,
            noise: d.tensor(noise, [2, 3, 8, 8]),
          }),
        );
        const result = { xPrev: Array.from(await r.xPrev.read()), x0: Array.from(await r.x0.read()) };
        r.xPrev.dispose();
        r.x0.dispose();
        return result;
      },
      { xt, out, noise, k },
    );
    const ref = referenceSamplerStep(Float64Array.from(xt), Float64Array.from(out), Float64Array.from(noise), k, 'eps', true, 0.5);
    expect(Math.max(...ref.x0.map(Math.abs))).toBe(0.5);
    expect(relError(gpu.x0 as number[], ref.x0)).toBeLessThan(1e-5);
    expect(relError(gpu.xPrev as number[], ref.xPrev)).toBeLessThan(1e-5);
  });
});
