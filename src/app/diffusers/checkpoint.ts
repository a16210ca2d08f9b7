// diffusers folders ↔ this project's checkpoint files: an imported model becomes a checkpoint that
// `sample`, `eval` and `train --resume` take; a checkpoint becomes a folder diffusers loads.

import { checkpointBytes, checkpointOfWeights, parseCheckpoint, type ParsedCheckpoint } from '../../model/train/checkpoint.ts';
import type { FileSource } from './files.ts';
import { exportDiffusers, importDiffusers, type ExportOptions, type ImportedModel } from './pipeline.ts';

/**
 * A diffusers folder as checkpoint bytes: its weights as the trained and the EMA weights, step 0;
 * with `optimizerState`, zero Adam moments too (a checkpoint `train --resume` fine-tunes).
 */
export function checkpointFromDiffusers(source: FileSource, optimizerState: boolean): { imported: ImportedModel; checkpoint: ParsedCheckpoint; bytes: Uint8Array } {
  const imported = importDiffusers(source);
  const checkpoint = checkpointOfWeights(imported.config, imported.weights, optimizerState);
  return { imported, checkpoint, bytes: checkpointBytes(checkpoint) };
}

/** Checkpoint bytes as a diffusers folder (relative path → bytes), and notes on what has no exact diffusers form. */
export function diffusersFromCheckpoint(bytes: Uint8Array, options: ExportOptions = {}): { files: Map<string, Uint8Array>; notes: string[] } {
  return exportDiffusers(parseCheckpoint(bytes), options);
}
