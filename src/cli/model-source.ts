// Where a command's model comes from: a checkpoint file (--ckpt) or a diffusers folder (--model),
// read and checked in Node before any browser starts.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { checkpointFromDiffusers, readCheckpoint, type FileSource, type ParsedCheckpoint } from '../app/index.ts';
import { UsageError, type FlagValues } from './command.ts';
import { progress } from './harness.ts';
import { readBytes } from './files.ts';

/** A folder on disk as a FileSource: every file under it, read when asked for. */
export function folderSource(dir: string): FileSource {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    names = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)).split(sep).join('/'));
  } catch (e) {
    throw new Error(`cannot read diffusers folder '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return {
    names,
    read(name) {
      const b = readFileSync(join(dir, ...name.split('/')));
      return new Uint8Array(b.buffer, b.byteOffset, b.length);
    },
  };
}

export interface ModelSource {
  /** Checkpoint bytes for the page. */
  bytes: Uint8Array;
  parsed: ParsedCheckpoint;
  /** Where it came from, for messages. */
  label: string;
}

/** The model of `--ckpt FILE` or `--model DIR` (exactly one), parsed and validated. */
export function modelSource(flags: FlagValues): ModelSource {
  const ckpt = flags.ckpt;
  const model = flags.model;
  if (typeof ckpt === 'string' && typeof model === 'string') throw new UsageError('give --ckpt FILE or --model DIR, not both');
  if (typeof model === 'string') {
    const { imported, checkpoint, bytes } = checkpointFromDiffusers(folderSource(model), false);
    for (const note of imported.notes) progress(`note: ${note}`);
    return { bytes, parsed: checkpoint, label: `diffusers ${imported.layout} ${model}` };
  }
  if (typeof ckpt !== 'string') throw new UsageError('--ckpt FILE or --model DIR is required');
  const bytes = readBytes(ckpt, 'checkpoint');
  return { bytes, parsed: readCheckpoint(bytes), label: ckpt };
}
