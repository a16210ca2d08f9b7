// Run by tests/cli/lavapipe.test.ts in its own process (the Vulkan driver is picked when Dawn
// starts): the fixture's diffusers UNet2DModel in Dawn in Node, its forward in f32 and in f16
// (forwardHalf), each against PyTorch's output; prints the relative errors as JSON. With
// SHAPES_FOR=gpu the kernels are a real GPU's (tiled conv, matmul and attention).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeHost } from '../../../src/cli/node-host.ts';
import { folderSource } from '../../../src/cli/model-source.ts';
import { importDiffusers } from '../../../src/app/diffusers/pipeline.ts';
import { relError } from '../../../src/engine/checks/runner.ts';
import { tinyUnetIo, writeTinyUnetFolder } from '../../setup/tiny-unet.ts';

const values = (name: string) => Float32Array.from(tinyUnetIo.get(name)!.data as Float32Array);

const dir = mkdtempSync(join(tmpdir(), 'ddpm-tiny-unet-'));
const host = await startNodeHost();
try {
  writeTinyUnetFolder(dir);
  const imported = importDiffusers(folderSource(dir));
  const engine = await import('../../../src/engine/index.ts');
  const shapesFor = process.env.SHAPES_FOR;
  if (shapesFor === 'gpu' || shapesFor === 'software') engine.runtime().setTuning({ shapesFor });
  const { UNet } = await import('../../../src/model/unet.ts');
  const { HalfWeights } = await import('../../../src/model/nn/half-weights.ts');
  const model = new UNet(imported.config.model).build(0);
  model.loadStateDict(new Map([...imported.weights].map(([n, t]) => [n, { shape: t.shape, data: Array.from(t.data) }])));
  const x = engine.tensor(values('x'), [2, 3, 8, 8]);
  const t = engine.tensor(values('timesteps_f32'), [2]);
  const half = HalfWeights.castFrom(model);
  const [f32, f16] = engine.noGrad(() => engine.scope(() => [model.forward(x, t), model.forwardHalf(x, t, half)]));
  const expected = values('out');
  const result = {
    adapter: engine.runtime().report.adapter.description,
    matmulTiled: engine.runtime().tuning.matmulTiled,
    f32: relError(await f32!.read(), expected),
    f16: relError(await f16!.read(), expected),
    f16Dtype: f16!.dtype,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
