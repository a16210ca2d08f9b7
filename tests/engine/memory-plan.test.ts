// The static memory plan of a captured run (src/engine/memory-plan.ts), on recorded commands
// written by hand and a stand-in pool: intermediates share a buffer only when their lifetimes do
// not overlap; copies out of an intermediate at its last use are elided into their destination
// unless a dispatch would then bind that buffer both read-only and writable; what work done once
// writes keeps a buffer of its own; a plan that saves nothing changes nothing.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RecordedCommand } from '../../src/engine/dispatch.ts';
import { handOutTimes, movableBuffers, planMemory } from '../../src/engine/memory-plan.ts';
import { currentRuntime, useRuntime, type Runtime } from '../../src/engine/runtime.ts';

/** A stand-in GPU buffer: identity and size are all the plan looks at. */
const buffer = (label: string, size = 1024) => ({ label, size }) as unknown as GPUBuffer;

let acquired: GPUBuffer[] = [];
const released: GPUBuffer[] = [];
let previous: Runtime | null = null;

beforeAll(() => {
  previous = currentRuntime();
  const pool = {
    acquire: (bytes: number) => {
      const b = buffer(`planned-${acquired.length}`, Math.max(256, bytes));
      acquired.push(b);
      return b;
    },
    release: (b: GPUBuffer) => released.push(b),
  };
  useRuntime({ assertAlive: () => undefined, pool, device: { limits: { minStorageBufferOffsetAlignment: 256 } } } as unknown as Runtime);
});

afterAll(() => {
  if (previous) useRuntime(previous);
});

/** A dispatch binding `bindings` ([buffer, writes, bytes at offset 0] each). */
function dispatch(...bindings: [GPUBuffer, boolean, number?][]): RecordedCommand {
  return {
    kind: 'dispatch',
    key: 'k',
    pipeline: null as unknown as GPUComputePipeline,
    layout: null as unknown as GPUBindGroupLayout,
    uniforms: new Uint8Array(16),
    buffers: bindings.map(([b, , bytes]) => ({ buffer: b, offset: 0, size: bytes ?? 1024 })),
    writes: bindings.map(([, w]) => w),
    grid: [1, 1, 1],
    role: null,
    repack: null,
  };
}

const copy = (src: GPUBuffer, dst: GPUBuffer, dstOffset: number, bytes = 1024): RecordedCommand => ({ kind: 'copy', src, srcOffset: 0, dst, dstOffset, bytes });

function plan(commands: RecordedCommand[], claimed: GPUBuffer[], handOuts: [GPUBuffer, number][], once = new Set<number>()) {
  acquired = [];
  const times = handOutTimes(handOuts.map(([b, at]) => ({ buffer: b, bytes: b.size, at })));
  const movable = movableBuffers(commands, claimed, times, new Set());
  return planMemory(commands, claimed, times, movable, (b) => b.size, once);
}

/** The buffer each binding of each planned command lands in. */
const bound = (commands: (RecordedCommand | null)[]) => commands.map((c) => (c && c.kind === 'dispatch' ? c.buffers.map((b) => (b.buffer as unknown as { label: string }).label) : null));

describe('planMemory', () => {
  test('intermediates share a buffer only when their lifetimes do not overlap', () => {
    // a → b → c → d in a chain, each in its own captured buffer: a and c, b and d never live together.
    const [x, a, b, c, d] = ['x', 'a', 'b', 'c', 'd'].map((l) => buffer(l));
    const commands = [dispatch([x, false], [a, true]), dispatch([a, false], [b, true]), dispatch([b, false], [c, true]), dispatch([c, false], [d, true])];
    const p = plan(commands, [a, b, c, d], [[a, 0], [b, 1], [c, 2], [d, 3]]);
    expect(p.planned).toBe(true);
    expect(p.buffers).toHaveLength(2);
    expect(p.plannedBytes).toBe(2048);
    expect(p.capturedBytes).toBe(4096);
    // Every command binds two different buffers: no two live intermediates share one.
    for (const labels of bound(p.commands)) expect(new Set(labels).size).toBe(2);
    expect(p.moved).toEqual([a, b, c, d]);
  });

  test('a buffer reused during the capture holds two intermediates, planned apart when they overlap another', () => {
    // The pool handed `r` out twice (commands 0-1 and 2-3); `s` lives across both.
    const [x, r, s] = ['x', 'r', 's'].map((l) => buffer(l));
    const commands = [dispatch([x, false], [r, true]), dispatch([r, false], [s, true]), dispatch([s, false], [r, true]), dispatch([r, false], [s, false], [x, true])];
    const p = plan(commands, [r, s], [[r, 0], [s, 1], [r, 2]]);
    for (const labels of bound(p.commands)) expect(new Set(labels).size).toBe(labels!.length);
  });

  test('a copy at the intermediate\'s last use is elided into its destination; one whose dispatch would bind the destination read-only and writable is not', () => {
    const grads = buffer('grads', 8192);
    const [x, a, b, y] = ['x', 'a', 'b', 'y'].map((l) => buffer(l));
    // Command 1 reads a (homed in grads once its copy is elided) and writes b, also copied into grads.
    const commands = [dispatch([x, false], [a, true]), dispatch([a, false], [b, true]), dispatch([b, false], [y, true]), copy(a, grads, 0), copy(b, grads, 1024)];
    const p = plan(commands, [a, b], [[a, 0], [b, 1]]);
    expect(p.elidedCopies).toBe(1);
    expect(p.commands[3]).toBeNull();
    expect(p.commands[4]).not.toBeNull();
    const labels = bound(p.commands);
    expect(labels[0]).toEqual(['x', 'grads']);
    // Command 1 binds grads (read, a's home) and b's planned buffer (written), never grads twice.
    expect(labels[1]![0]).toBe('grads');
    expect(labels[1]![1]).not.toBe('grads');
  });

  test('two gradients one dispatch writes (a norm\'s dgamma and dbeta) are both elided into the destination', () => {
    const grads = buffer('grads', 8192);
    const [x, g, bt] = ['x', 'g', 'bt'].map((l) => buffer(l));
    const commands = [dispatch([x, false], [g, true], [bt, true]), copy(g, grads, 0), copy(bt, grads, 1024)];
    const p = plan(commands, [g, bt], [[g, 0], [bt, 0]]);
    expect(p.elidedCopies).toBe(2);
    const c = p.commands[0]!;
    if (c.kind !== 'dispatch') throw new Error('a dispatch');
    expect(c.buffers.map((b) => [(b.buffer as unknown as { label: string }).label, b.offset])).toEqual([['x', 0], ['grads', 0], ['grads', 1024]]);
  });

  test('what work done once writes keeps a buffer of its own for the whole run', () => {
    // Command 0 fills `k`, read at command 1; `u` lives at commands 2-3, after k's last use, so it
    // may take k's buffer, unless command 0 runs once (a replay skips it and still reads k).
    const [k, t, u, x] = ['k', 't', 'u', 'x'].map((l) => buffer(l));
    const commands = [dispatch([k, true]), dispatch([k, false], [x, false], [t, true]), dispatch([t, false], [u, true]), dispatch([u, false], [x, true])];
    const handOuts: [GPUBuffer, number][] = [[k, 0], [t, 1], [u, 2]];
    const shared = bound(plan(commands, [k, t, u], handOuts).commands);
    expect(shared[2]![1]).toBe(shared[0]![0]);
    const once = bound(plan(commands, [k, t, u], handOuts, new Set([0])).commands);
    expect(once[2]).not.toContain(once[0]![0]);
    expect(once[3]).not.toContain(once[0]![0]);
  });

  test('a plan that saves nothing leaves the commands and acquires nothing', () => {
    const [x, a] = ['x', 'a'].map((l) => buffer(l));
    const commands = [dispatch([x, false], [a, true])];
    const before = released.length;
    const p = plan(commands, [a], [[a, 0]]);
    expect(p.planned).toBe(false);
    expect(p.commands).toEqual(commands);
    expect(p.buffers).toEqual([a]);
    expect(p.moved).toEqual([]);
    expect(released.length - before).toBe(acquired.length);
  });
});
