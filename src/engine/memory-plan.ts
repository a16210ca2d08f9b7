// The static memory plan of a captured run (src/engine/replay.ts). During the capture the pool
// hands out buffers as ops ask, by size class, knowing nothing of the future; once the whole run
// is recorded, every intermediate's exact size and lifetime (its first and last command) are
// known. The plan gives each intermediate a buffer of its own kind: intermediates whose lifetimes
// do not overlap share one buffer, as large as the largest of them (greedy by size, largest
// first, each into the smallest fitting buffer free for its lifetime), so the run holds less than
// the capture's buffers (the captured ones it moves are destroyed). Two tensors one command binds never share a buffer (their lifetimes
// overlap at that command), so no dispatch binds aliased ranges.

import type { HandOut } from './buffer-pool.ts';
import type { RecordedCommand } from './dispatch.ts';
import { runtime } from './runtime.ts';

/** One intermediate: a hand-out of a captured buffer, from its first command to its last. */
interface Intermediate {
  first: number;
  last: number;
  /** Bytes its commands reach (offset + size of every binding, copy and clear). */
  bytes: number;
  /** The planned buffer's index. */
  slot: number;
}

/** A planned buffer: its size and the lifetimes of the intermediates it holds. */
interface Slot {
  bytes: number;
  spans: [number, number][];
}

export interface MemoryPlan {
  /** The commands with every moved intermediate's bindings on its planned buffer. */
  commands: RecordedCommand[];
  /** The run's static memory: the captured buffers kept where they are, and the planned ones (all the pool's, held). */
  buffers: GPUBuffer[];
  /** Bytes of the captured buffers before the plan, and of the run's buffers after it. */
  capturedBytes: number;
  plannedBytes: number;
}

/** A command's references to buffers: each with where it ends (offset + bytes), or null for a whole-buffer binding. */
function referencesOf(c: RecordedCommand): { buffer: GPUBuffer; end: number | null }[] {
  if (c.kind === 'copy') return [{ buffer: c.src, end: c.srcOffset + c.bytes }, { buffer: c.dst, end: c.dstOffset + c.bytes }];
  if (c.kind === 'clear') return [{ buffer: c.buffer, end: c.offset + c.bytes }];
  return c.buffers.map((b) => ({ buffer: b.buffer, end: b.size === undefined ? null : (b.offset ?? 0) + b.size }));
}

function withBuffer(c: RecordedCommand, moved: (buffer: GPUBuffer) => GPUBuffer): RecordedCommand {
  if (c.kind === 'copy') return { ...c, src: moved(c.src), dst: moved(c.dst) };
  if (c.kind === 'clear') return { ...c, buffer: moved(c.buffer) };
  return { ...c, buffers: c.buffers.map((b) => ({ ...b, buffer: moved(b.buffer) })) };
}

const overlaps = (spans: readonly [number, number][], first: number, last: number) => spans.some(([a, b]) => a <= last && first <= b);

/**
 * Plans the intermediates of `commands`: `claimed` are the pool buffers the capture used and the
 * run holds (each counted by `sizeOf`), `handOuts` when the pool handed each out (the command
 * count then), `pinned` those whose contents must stay where they are (what the capture computed
 * once for every replay, constants). Releases the captured buffers it moves and holds the
 * planned ones instead; returns the commands unchanged when the plan would not save memory.
 */
export function planMemory(
  commands: readonly RecordedCommand[],
  claimed: readonly GPUBuffer[],
  handOuts: readonly HandOut[],
  pinned: ReadonlySet<GPUBuffer>,
  sizeOf: (buffer: GPUBuffer) => number,
): MemoryPlan {
  const capturedBytes = claimed.reduce((n, b) => n + sizeOf(b), 0);
  const unchanged: MemoryPlan = { commands: [...commands], buffers: [...claimed], capturedBytes, plannedBytes: capturedBytes };
  const starts = new Map<GPUBuffer, number[]>();
  for (const h of handOuts) {
    if (!starts.has(h.buffer)) starts.set(h.buffer, []);
    starts.get(h.buffer)!.push(h.at);
  }
  const movable = new Set(claimed.filter((b) => !pinned.has(b) && starts.has(b)));
  // Each movable buffer's intermediates, by hand-out; a buffer used before its first hand-out or
  // bound whole stays where it is.
  const intermediates = new Map<GPUBuffer, (Intermediate | null)[]>();
  const which = (buffer: GPUBuffer, at: number): number => {
    const s = starts.get(buffer)!;
    let k = 0;
    while (k + 1 < s.length && s[k + 1]! <= at) k++;
    return s[0]! <= at ? k : -1;
  };
  commands.forEach((c, i) => {
    for (const { buffer, end } of referencesOf(c)) {
      if (!movable.has(buffer)) continue;
      const k = which(buffer, i);
      if (k < 0 || end === null) {
        movable.delete(buffer);
        continue;
      }
      if (!intermediates.has(buffer)) intermediates.set(buffer, starts.get(buffer)!.map(() => null));
      const list = intermediates.get(buffer)!;
      const it = list[k];
      if (it) {
        it.last = i;
        it.bytes = Math.max(it.bytes, end);
      } else list[k] = { first: i, last: i, bytes: end, slot: -1 };
    }
  });
  const all = [...intermediates.entries()].filter(([b]) => movable.has(b)).flatMap(([, list]) => list.filter((x): x is Intermediate => x !== null));
  if (all.length === 0) return unchanged;

  // Largest first, each into the smallest buffer free for its lifetime that holds it, else the
  // largest free one (grown), else a new one.
  const slots: Slot[] = [];
  for (const it of [...all].sort((a, b) => b.bytes - a.bytes || a.first - b.first)) {
    let fit = -1;
    let grow = -1;
    slots.forEach((s, i) => {
      if (overlaps(s.spans, it.first, it.last)) return;
      if (s.bytes >= it.bytes) {
        if (fit < 0 || s.bytes < slots[fit]!.bytes) fit = i;
      } else if (grow < 0 || s.bytes > slots[grow]!.bytes) grow = i;
    });
    const i = fit >= 0 ? fit : grow >= 0 ? grow : slots.push({ bytes: 0, spans: [] }) - 1;
    const slot = slots[i]!;
    slot.bytes = Math.max(slot.bytes, it.bytes);
    slot.spans.push([it.first, it.last]);
    it.slot = i;
  }

  const { pool } = runtime();
  const kept = claimed.filter((b) => !movable.has(b));
  const keptBytes = kept.reduce((n, b) => n + sizeOf(b), 0);
  const movedBytes = capturedBytes - keptBytes;
  const planned = slots.map((s) => pool.acquire(s.bytes));
  const plannedBytes = keptBytes + planned.reduce((n, b) => n + sizeOf(b), 0);
  if (plannedBytes >= capturedBytes || movedBytes === 0) {
    for (const b of planned) pool.release(b);
    return unchanged;
  }
  const rewritten = commands.map((c, i) =>
    withBuffer(c, (buffer) => {
      if (!movable.has(buffer)) return buffer;
      return planned[intermediates.get(buffer)![which(buffer, i)]!.slot]!;
    }),
  );
  // The capture's own commands still bind the moved buffers: destroyed once they are submitted.
  for (const b of movable) pool.retire(b);
  return { commands: rewritten, buffers: [...kept, ...planned], capturedBytes, plannedBytes };
}
