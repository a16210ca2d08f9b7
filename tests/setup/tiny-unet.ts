// The tiny diffusers UNet2DModel fixture (tests/fixtures/torch-reference/tiny_unet/): its
// PyTorch inputs and outputs, and a diffusers folder made from its documented constructor
// arguments (every other field absent, so diffusers' defaults) and its weights. No vitest
// import: helper scripts run outside the test runner use it too.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../src/engine/safetensors.ts';

const FIXTURE = new URL('../fixtures/torch-reference/tiny_unet/', import.meta.url);

/** PyTorch's tensors (x, timesteps, out, gradients) by name. */
export const tinyUnetIo = readSafetensors(readFileSync(new URL('io.safetensors', FIXTURE))).tensors;
/** io.json: constructor arguments, the listed parameter gradients, how the values were made. */
export const tinyUnetMeta = JSON.parse(readFileSync(new URL('io.json', FIXTURE), 'utf8'));

/** Writes the model as a diffusers UNet2DModel folder into `dir`. */
export function writeTinyUnetFolder(dir: string): void {
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ _class_name: 'UNet2DModel', ...tinyUnetMeta.constructor_kwargs }));
  writeFileSync(join(dir, 'diffusion_pytorch_model.safetensors'), readFileSync(new URL('diffusion_pytorch_model.safetensors', FIXTURE)));
}
