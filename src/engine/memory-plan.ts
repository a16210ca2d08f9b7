// The static memory plan of a captured run (src/engine/replay.ts). During the capture the pool
// hands out buffers as ops ask, by size class, knowing nothing of the future; once the whole run
// is recorded, every intermediate's exact size and lifetime (its first and last command) are
// known. Intermediates whose lifetimes do not overlap share one buffer, as large as the largest
// of them (greedy by size, largest first, each into the smallest fitting buffer free for its
// lifetime), so the run holds less than the capture's buffers, which are destroyed. Two
// intermediates one command binds never share a planned buffer: their lifetimes overlap there.
//
// Copies out of an intermediate at its last use (a parameter's gradient gathered into the
// optimiser's flat buffer) are elided: the intermediate lives in the copy's destination from the
// start, where nothing else touches that range meanwhile, and the copy is dropped. A command may
// then bind two ranges of the destination only if it writes both (WebGPU forbids a buffer bound
// read-only and writable in one dispatch).

import type { HandOut } from './buffer-pool.ts';
import type { RecordedCommand } from './dispatch.ts';
import { runtime } from './runtime.ts';

/** One intermediate: a hand-out of a captured buffer, from its first command to its last. */
interface Intermediate {
  first: number;
  last: number;
  /** Bytes its commands reach (offset + size of every binding, copy and clear). */
  bytes: number;
  /** The planned buffer's index, or -1 when it lives in a copy's destination (`home`). */
  slot: number;
  home: { buffer: GPUBuffer; offset: number } | null;
}

/** A planned buffer: its size and the lifetimes of the intermediates it holds. */
interface Slot {
  bytes: number;
  spans: [number, number][];
}

export interface MemoryPlan {
  /** Whether anything moved (else the commands are the captured ones and nothing was acquired). */
  planned: boolean;
  /** The commands with every moved intermediate's bindings on its planned buffer; null where a copy was elided. */
  commands: (RecordedCommand | null)[];
  /** Copies elided. */
  elidedCopies: number;
  /** The run's static memory: the captured buffers kept where they are, and the planned ones (the pool's, held). */
  buffers: GPUBuffer[];
  /** The captured buffers the plan moved off: the caller retires them once the run is made. */
  moved: GPUBuffer[];
  /** Bytes of the captured buffers before the plan, and of the run's buffers after it. */
  capturedBytes: number;
  plannedBytes: number;
}

/** A reference of a command to a buffer: its range (a null end: the whole buffer) and whether it writes it. */
interface Reference {
  buffer: GPUBuffer;
  start: number;
  end: number | null;
  writes: boolean;
}

function referencesOf(c: RecordedCommand): Reference[] {
  if (c.kind === 'copy') {
    return [
      { buffer: c.src, start: c.srcOffset, end: c.srcOffset + c.bytes, writes: false },
      { buffer: c.dst, start: c.dstOffset, end: c.dstOffset + c.bytes, writes: true },
    ];
  }
  if (c.kind === 'clear') return [{ buffer: c.buffer, start: c.offset, end: c.offset + c.bytes, writes: true }];
  return c.buffers.map((b, k) => ({ buffer: b.buffer, start: b.offset ?? 0, end: b.size === undefined ? null : (b.offset ?? 0) + b.size, writes: c.writes[k]! }));
}

/** `c` with each buffer reference moved: `moved` gives the new buffer and the offset added. */
function relocated(c: RecordedCommand, moved: (buffer: GPUBuffer) => { buffer: GPUBuffer; offset: number }): RecordedCommand {
  if (c.kind === 'copy') {
    const [src, dst] = [moved(c.src), moved(c.dst)];
    return { ...c, src: src.buffer, srcOffset: c.srcOffset + src.offset, dst: dst.buffer, dstOffset: c.dstOffset + dst.offset };
  }
  if (c.kind === 'clear') {
    const to = moved(c.buffer);
    return { ...c, buffer: to.buffer, offset: c.offset + to.offset };
  }
  return {
    ...c,
    buffers: c.buffers.map((b) => {
      const to = moved(b.buffer);
      return { ...b, buffer: to.buffer, offset: (b.offset ?? 0) + to.offset };
    }),
  };
}

/** When each captured buffer was handed out (command counts), in order. */
export function handOutTimes(handOuts: readonly HandOut[]): Map<GPUBuffer, number[]> {
  const starts = new Map<GPUBuffer, number[]>();
  for (const h of handOuts) {
    if (!starts.has(h.buffer)) starts.set(h.buffer, []);
    starts.get(h.buffer)!.push(h.at);
  }
  return starts;
}

/** Which hand-out of a buffer (times from handOutTimes) command `at` sees; -1 before the first. */
export function handOutAt(times: readonly number[], at: number): number {
  let k = -1;
  while (k + 1 < times.length && times[k + 1]! <= at) k++;
  return k;
}

/**
 * The claimed buffers the plan may move: not `pinned` (constants uploaded once), handed out
 * during the capture, never used before their first hand-out and never bound whole. The others
 * stay where they are, their contents the buffer's through the whole run.
 */
export function movableBuffers(
  commands: readonly RecordedCommand[],
  claimed: readonly GPUBuffer[],
  times: ReadonlyMap<GPUBuffer, readonly number[]>,
  pinned: ReadonlySet<GPUBuffer>,
): Set<GPUBuffer> {
  const movable = new Set(claimed.filter((b) => !pinned.has(b) && times.has(b)));
  commands.forEach((c, i) => {
    for (const { buffer, end } of referencesOf(c)) {
      if (movable.has(buffer) && (end === null || handOutAt(times.get(buffer)!, i) < 0)) movable.delete(buffer);
    }
  });
  return movable;
}

const overlaps = (spans: readonly [number, number][], first: number, last: number) => spans.some(([a, b]) => a <= last && first <= b);

/**
 * Plans the intermediates of `commands`: `claimed` are the pool buffers the capture used and the
 * run holds (each counted by `sizeOf`), `times` when the pool handed each out (handOutTimes),
 * `movable` those it may move (movableBuffers). What the commands of `once` write (work a replay
 * skips: it runs once more, on the planned buffers) lives for the whole run. Acquires the planned
 * buffers from the pool; returns the commands unchanged, acquiring nothing, when the plan would
 * not save memory.
 */
export function planMemory(
  commands: readonly RecordedCommand[],
  claimed: readonly GPUBuffer[],
  times: ReadonlyMap<GPUBuffer, readonly number[]>,
  movable: ReadonlySet<GPUBuffer>,
  sizeOf: (buffer: GPUBuffer) => number,
  once: ReadonlySet<number> = new Set(),
): MemoryPlan {
  const capturedBytes = claimed.reduce((n, b) => n + sizeOf(b), 0);
  const unchanged: MemoryPlan = { planned: false, commands: [...commands], elidedCopies: 0, buffers: [...claimed], moved: [], capturedBytes, plannedBytes: capturedBytes };
  // Each movable buffer's intermediates, by hand-out.
  const intermediates = new Map<GPUBuffer, (Intermediate | null)[]>();
  const which = (buffer: GPUBuffer, at: number): number => handOutAt(times.get(buffer)!, at);
  commands.forEach((c, i) => {
    for (const { buffer, end } of referencesOf(c)) {
      if (!movable.has(buffer)) continue;
      if (!intermediates.has(buffer)) intermediates.set(buffer, times.get(buffer)!.map(() => null));
      const list = intermediates.get(buffer)!;
      const k = which(buffer, i);
      const it = list[k];
      if (it) {
        it.last = i;
        it.bytes = Math.max(it.bytes, end!);
      } else list[k] = { first: i, last: i, bytes: end!, slot: -1, home: null };
    }
  });
  const all = [...intermediates.values()].flatMap((list) => list.filter((x): x is Intermediate => x !== null));
  if (all.length === 0) return unchanged;
  const intermediateAt = (buffer: GPUBuffer, i: number): Intermediate | null => (movable.has(buffer) ? (intermediates.get(buffer)?.[which(buffer, i)] ?? null) : null);
  // What work done once writes lives from the start to the end: nothing else shares its buffer.
  for (const i of once) {
    for (const { buffer } of referencesOf(commands[i]!)) {
      const it = intermediateAt(buffer, i);
      if (it) [it.first, it.last] = [0, commands.length - 1];
    }
  }
  const elided = elideCopies(commands, intermediateAt, movable, once);

  // Largest first, each into the smallest buffer free for its lifetime that holds it, else the
  // largest free one (grown), else a new one.
  const slots: Slot[] = [];
  for (const it of all.filter((x) => !x.home).sort((a, b) => b.bytes - a.bytes || a.first - b.first)) {
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
  const planned = slots.map((s) => pool.acquire(s.bytes));
  const plannedBytes = keptBytes + planned.reduce((n, b) => n + sizeOf(b), 0);
  if (plannedBytes >= capturedBytes || kept.length === claimed.length) {
    for (const b of planned) pool.release(b);
    return unchanged;
  }
  const rewritten = commands.map((c, i) =>
    elided.has(i)
      ? null
      : relocated(c, (buffer) => {
          const it = intermediateAt(buffer, i);
          if (!it) return { buffer, offset: 0 };
          return it.home ?? { buffer: planned[it.slot]!, offset: 0 };
        }),
  );
  return {
    planned: true,
    commands: rewritten,
    elidedCopies: elided.size,
    buffers: [...kept, ...planned],
    moved: claimed.filter((b) => movable.has(b)),
    capturedBytes,
    plannedBytes,
  };
}

/**
 * Finds the copies to elide and gives their sources a home in the destination: a copy of a whole
 * intermediate at its last use into a buffer that stays where it is (the parameter arena), at a
 * storage-binding alignment, where no other command touches that range during the
 * intermediate's life, and where no command that binds the intermediate binds another range of
 * the destination (directly or through an intermediate already homed there) unless it writes
 * both. Returns the elided copies' indices.
 */
function elideCopies(
  commands: readonly RecordedCommand[],
  intermediateAt: (buffer: GPUBuffer, i: number) => Intermediate | null,
  movable: ReadonlySet<GPUBuffer>,
  once: ReadonlySet<number>,
): Set<number> {
  const align = runtime().device.limits.minStorageBufferOffsetAlignment;
  const elided = new Set<number>();
  // Ranges of destinations taken by homes so far, with the lifetimes they are taken for.
  const homes = new Map<GPUBuffer, { start: number; end: number; first: number; last: number }[]>();
  /** Where a reference of command j lands once homed intermediates are placed: its buffer and range. */
  const landing = (r: Reference, j: number): { buffer: GPUBuffer; start: number; end: number | null } => {
    const home = intermediateAt(r.buffer, j)?.home;
    if (!home) return r;
    return { buffer: home.buffer, start: home.offset + r.start, end: r.end === null ? null : home.offset + r.end };
  };
  commands.forEach((c, i) => {
    if (c.kind !== 'copy' || once.has(i) || c.srcOffset !== 0 || c.dstOffset % align !== 0 || movable.has(c.dst) || c.src === c.dst) return;
    const it = intermediateAt(c.src, i);
    if (!it || it.home || it.last !== i || it.bytes > c.bytes) return;
    const [start, end] = [c.dstOffset, c.dstOffset + c.bytes];
    const taken = homes.get(c.dst) ?? [];
    if (taken.some((h) => h.start < end && start < h.end && h.first <= it.last && it.first <= h.last)) return;
    for (let j = it.first; j < i; j++) {
      const refs = referencesOf(commands[j]!);
      const ownRefs = refs.filter((r) => r.buffer === c.src);
      for (const r of refs) {
        if (r.buffer === c.src) continue;
        const at = landing(r, j);
        if (at.buffer !== c.dst) continue;
        // Its range during the intermediate's life is the intermediate's alone.
        if (at.end === null || (at.start < end && start < at.end)) return;
        // Another range of the destination in a command that binds the intermediate: both written, or no.
        if (ownRefs.length > 0 && !(r.writes && ownRefs.every((o) => o.writes))) return;
      }
    }
    it.home = { buffer: c.dst, offset: c.dstOffset };
    taken.push({ start, end, first: it.first, last: it.last });
    homes.set(c.dst, taken);
    elided.add(i);
  });
  return elided;
}
