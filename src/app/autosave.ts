// Runs that survive the tab: the trainer's full state (weights, EMA, Adam moments, step, RNG
// and config: a checkpoint file) kept in the origin's private file system (OPFS), so a reload,
// a crash or a lost GPU device can resume from the last save; beside it, the run's history as the
// page showed it (target, cadences, loss and quality curves, learning-rate changes).

import type { StepRecord } from '../model/train/trainer.ts';
import { readCheckpoint } from './checkpoint-io.ts';

const FILE = 'ddpm-autosave.safetensors';
const HISTORY_FILE = 'ddpm-autosave.history.json';

/** One measurement of the normalised Fréchet distance during training. */
export interface QualityPoint {
  step: number;
  normalised: number;
  confidentShare: number;
}

/** A change of the peak learning rate during a run: from `step` on, `lr`. */
export interface LrChange {
  step: number;
  lr: number;
}

/** What the page showed of a run, saved with its checkpoint: resuming restores all of it. */
export interface RunHistory {
  /** The checkpoint's step it belongs to (a history of another step is not used). */
  step: number;
  targetSteps: number;
  qualityEvery: number;
  autosaveEvery: number;
  records: StepRecord[];
  quality: QualityPoint[];
  lrChanges: LrChange[];
}

/** What an autosave holds, read back. */
export interface AutosaveInfo {
  step: number;
  bytes: Uint8Array;
  /** When it was written (the file's modification time). */
  savedAt: Date;
  /** The run's history at that step, or null when none was saved with it. */
  history: RunHistory | null;
}

/** The origin's private directory, or null where the browser has none (then nothing is saved). */
async function directory(): Promise<FileSystemDirectoryHandle | null> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) return null;
  try {
    return await navigator.storage.getDirectory();
  } catch {
    return null;
  }
}

/** Whether this browser can keep an autosave. */
export async function autosaveAvailable(): Promise<boolean> {
  return (await directory()) !== null;
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, data: Uint8Array | string): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  try {
    await writable.write(data as BufferSource | string);
    await writable.close();
  } catch (e) {
    await writable.abort();
    throw e;
  }
}

/**
 * Replaces the autosave with `bytes` (a checkpoint file) and the run's `history` at its step; the
 * old files stay until the new ones are complete (a history left from another step is ignored).
 */
export async function writeAutosave(bytes: Uint8Array, history?: RunHistory): Promise<void> {
  const dir = await directory();
  if (!dir) throw new Error('this browser has no origin private file system: runs cannot be autosaved');
  await writeFile(dir, FILE, bytes);
  if (history) await writeFile(dir, HISTORY_FILE, JSON.stringify(history));
  else await dir.removeEntry(HISTORY_FILE).catch(() => undefined);
}

/** The saved history if it belongs to `step` and reads as one, else null. */
async function readHistory(dir: FileSystemDirectoryHandle, step: number): Promise<RunHistory | null> {
  try {
    const text = await (await (await dir.getFileHandle(HISTORY_FILE)).getFile()).text();
    const h = JSON.parse(text) as RunHistory;
    const lists = Array.isArray(h.records) && Array.isArray(h.quality) && Array.isArray(h.lrChanges);
    return h.step === step && lists && Number.isInteger(h.targetSteps) ? h : null;
  } catch {
    return null;
  }
}

/** The autosave, or null when there is none; a file that does not parse is reported, not used. */
export async function readAutosave(): Promise<AutosaveInfo | null> {
  const dir = await directory();
  if (!dir) return null;
  let file: File;
  try {
    file = await (await dir.getFileHandle(FILE)).getFile();
  } catch {
    return null;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const parsed = readCheckpoint(bytes);
  return { step: parsed.step, bytes, savedAt: new Date(file.lastModified), history: await readHistory(dir, parsed.step) };
}

/** Deletes the autosave (nothing to do when there is none). */
export async function removeAutosave(): Promise<void> {
  const dir = await directory();
  if (!dir) return;
  for (const name of [FILE, HISTORY_FILE]) {
    try {
      await dir.removeEntry(name);
    } catch {
      // Already gone.
    }
  }
}
