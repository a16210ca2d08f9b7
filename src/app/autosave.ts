// Runs that survive the tab: the trainer's full state (weights, EMA, Adam moments, step, RNG
// and config: a checkpoint file) kept in the origin's private file system (OPFS), so a reload,
// a crash or a lost GPU device can resume from the last save.

import { readCheckpoint } from './checkpoint-io.ts';

const FILE = 'ddpm-autosave.safetensors';

/** What an autosave holds, read back. */
export interface AutosaveInfo {
  step: number;
  bytes: Uint8Array;
  /** When it was written (the file's modification time). */
  savedAt: Date;
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

/** Replaces the autosave with `bytes` (a checkpoint file); the old one stays until the new one is complete. */
export async function writeAutosave(bytes: Uint8Array): Promise<void> {
  const dir = await directory();
  if (!dir) throw new Error('this browser has no origin private file system: runs cannot be autosaved');
  const handle = await dir.getFileHandle(FILE, { create: true });
  const writable = await handle.createWritable();
  try {
    await writable.write(bytes as BufferSource);
    await writable.close();
  } catch (e) {
    await writable.abort();
    throw e;
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
  return { step: parsed.step, bytes, savedAt: new Date(file.lastModified) };
}

/** Deletes the autosave (nothing to do when there is none). */
export async function removeAutosave(): Promise<void> {
  const dir = await directory();
  if (!dir) return;
  try {
    await dir.removeEntry(FILE);
  } catch {
    // Already gone.
  }
}
