// `ddpm convert`: diffusers folders ↔ this project's checkpoints, in Node (no browser, no GPU).

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkpointFromDiffusers, diffusersFromCheckpoint } from '../../app/index.ts';
import { UsageError, type Command } from '../command.ts';
import { readBytes, writeFileAtomic } from '../files.ts';
import { progress } from '../harness.ts';
import { folderSource } from '../model-source.ts';

/** Writes `files` (relative path → bytes) as folder `out`: built beside it, then renamed into place. */
function writeFolder(out: string, files: Map<string, Uint8Array>): void {
  const target = resolve(out);
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`--out ${out} exists and is not empty: choose a new folder`);
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    for (const [name, bytes] of files) writeFileAtomic(join(tmp, ...name.split('/')), bytes);
    mkdirSync(dirname(target), { recursive: true });
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export const convert: Command = {
  usage:
    'convert --from-diffusers DIR --out CKPT\n' +
    '       convert --to-diffusers CKPT --out DIR [--raw] [--pipeline ddpm|ddim] [--unet-only]',
  summary:
    'a diffusers UNet2DModel or DDPMPipeline/DDIMPipeline folder (safetensors) as a checkpoint (train --resume fine-tunes it), ' +
    'or a checkpoint as a folder diffusers loads (EMA weights unless --raw; DDPMPipeline unless the model came with DDIM)',
  flags: {
    'from-diffusers': { type: 'string' },
    'to-diffusers': { type: 'string' },
    out: { type: 'string' },
    raw: { type: 'boolean' },
    pipeline: { type: 'string' },
    'unet-only': { type: 'boolean' },
  },
  async run(flags) {
    const from = flags['from-diffusers'];
    const to = flags['to-diffusers'];
    const out = flags.out;
    if ((typeof from === 'string') === (typeof to === 'string')) throw new UsageError('give one of --from-diffusers DIR or --to-diffusers CKPT');
    if (typeof out !== 'string') throw new UsageError('--out is required');
    if (typeof from === 'string') {
      if (flags.raw || flags.pipeline !== undefined || flags['unet-only']) throw new UsageError('--raw, --pipeline and --unet-only go with --to-diffusers');
      const { imported, bytes } = checkpointFromDiffusers(folderSource(from), true);
      for (const note of imported.notes) progress(`note: ${note}`);
      writeFileAtomic(out, bytes);
      const c = imported.config;
      progress(
        `wrote ${out}: ${imported.weights.size} tensors of a ${c.model.imageSize}x${c.model.imageSize}x${c.model.inChannels} U-Net, ` +
          `${c.diffusion.schedule.T} steps, ${c.diffusion.objective} objective (from the ${imported.layout} folder ${from})`,
      );
      return 0;
    }
    const pipeline = flags.pipeline;
    if (pipeline !== undefined && pipeline !== 'ddpm' && pipeline !== 'ddim') throw new UsageError(`--pipeline must be ddpm or ddim, got '${String(pipeline)}'`);
    const { files, notes } = diffusersFromCheckpoint(readBytes(to as string, 'checkpoint'), {
      weights: flags.raw ? 'raw' : 'ema',
      layout: flags['unet-only'] ? 'unet' : 'pipeline',
      ...(pipeline ? { pipeline } : {}),
    });
    for (const note of notes) progress(`note: ${note}`);
    writeFolder(out, files);
    progress(`wrote ${out}: ${[...files.keys()].join(', ')} (${flags.raw ? 'raw' : 'EMA'} weights)`);
    return 0;
  },
};
