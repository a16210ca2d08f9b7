// Capture once, replay after: the first call of a GPU function records the commands its ops
// encode (pipelines, uniforms, bindings, copies); every later call with inputs of the same
// shapes encodes those commands again, and none of the ops' JavaScript (shape checks, tensor
// bookkeeping, kernel keys, uniform packing, bind-group lookups) runs. The run's intermediates
// become its static memory, placed by a plan over their exact sizes and lifetimes
// (src/engine/memory-plan.ts); its uniforms live in one buffer, written once but for the live
// values a replay rewrites, and its results are bit-identical to the eager run's: the same
// kernels on the same values in the same order.
//
// What a captured function may do: GPU work that depends only on its input tensors' values and
// shapes, and on live values (src/engine/live.ts: a replay reads them again and rewrites those
// uniforms). Constants it uploads (`constant()`) stay in its static memory; other data uploaded
// inside is refused. It may not read back; it must not depend on tensors it does not take as
// inputs changing buffers between calls (model weights in their arena are read in place, so
// they may change values, not storage).
//
// Buffers the caller declares frozen (a sampler's weights, unchanged while it runs) make work
// that reads only them invariant: such commands (a conv's filter packing) run when the run is
// made and are dropped from the replays, their outputs kept in the run's static memory.

import type { HandOut } from './buffer-pool.ts';
import type { RecordedCommand, ReplayCommand } from './dispatch.ts';
import { handOutAt, handOutTimes, movableBuffers, planMemory } from './memory-plan.ts';
import { runtime } from './runtime.ts';
import { fmt, sameShape } from './shape.ts';
import { emptyTensor, scope, type Tensor } from './tensor.ts';

function copyInto(from: Tensor, to: Tensor): void {
  runtime().dispatcher.copy(from.storage.buffer, from.storage.offset, to.storage.buffer, to.storage.offset, from.bytes);
}

export interface CaptureOptions {
  /** Tensors (weights) whose values stay unchanged while the run lives: work that reads only them runs at the capture. */
  frozen?: readonly Tensor[];
}

/** A captured GPU function of `inputs.length` tensors returning one tensor or several. */
export class CapturedRun {
  private disposed = false;

  private constructor(
    /** The run's own copies of its inputs: a replay copies new inputs into them. */
    private readonly inputs: readonly Tensor[],
    private readonly outputs: readonly Tensor[],
    private readonly commands: readonly ReplayCommand[],
    /** Pool buffers the run holds as its static memory (the intermediates as planned), and its uniform buffer. */
    private readonly claimed: readonly GPUBuffer[],
    private readonly uniforms: PreparedUniforms | null,
    readonly dispatches: number,
    /** Bytes of the intermediates' buffers as the capture used them, and as the run holds them (src/engine/memory-plan.ts). */
    readonly memory: { captured: number; planned: number },
  ) {}

  /**
   * Runs `fn` on `inputs` (encoding its work as usual) and records it. Returns the run to replay
   * and `fn`'s result for this call (a tensor of the caller's).
   */
  static capture(
    inputs: readonly Tensor[],
    fn: (...inputs: Tensor[]) => Tensor,
    options: CaptureOptions = {},
  ): { run: CapturedRun; result: Tensor } {
    const { run, results } = CapturedRun.captureMany(inputs, (...xs) => [fn(...xs)], options);
    return { run, result: results[0]! };
  }

  /** `capture` for a function returning several tensors (their order kept). */
  static captureMany(
    inputs: readonly Tensor[],
    fn: (...inputs: Tensor[]) => Tensor[],
    options: CaptureOptions = {},
  ): { run: CapturedRun; results: Tensor[] } {
    const rt = runtime();
    const watched = recordRun(inputs, fn);
    const { own, outs } = watched;
    // The run keeps its inputs and outputs past the caller's scope; `dispose` frees them.
    for (const t of [...own, ...outs]) t.keep();
    const claimed = [...watched.acquired].filter((b) => rt.pool.claim(b));
    rt.pool.unparkConstants();
    // On a refusal or a failure, everything the capture took goes back.
    const giveBack = () => {
      for (const t of [...own, ...outs]) t.dispose();
      for (const b of claimed) rt.pool.release(b);
    };
    const transientUploads = claimed.filter((b) => watched.uploaded.has(b)).length;
    if (transientUploads > 0) {
      giveBack();
      throw new Error(
        `CapturedRun.capture: the captured work uploads data into ${transientUploads} tensor(s) it does not keep (tensor(...) inside the function): a replay would reuse the capture's values; pass per-call data as an input`,
      );
    }
    const frozen = new Set((options.frozen ?? []).map((t) => t.storage.buffer));
    let c: ReturnType<typeof compile>;
    try {
      c = compile(watched, claimed, frozen);
    } catch (e) {
      giveBack();
      throw e;
    }
    // The captured buffers the plan moved off: the capture's commands still bind them.
    for (const b of c.moved) rt.pool.retire(b);
    const run = new CapturedRun(own, outs, c.commands, c.buffers, c.uniforms, c.dispatches, c.memory);
    return { run, results: run.copiesOfOutputs() };
  }

  /** Fresh tensors (the caller's) holding the run's outputs now. */
  private copiesOfOutputs(): Tensor[] {
    return this.outputs.map((out) => {
      const copy = emptyTensor(out.shape, 'captured-output', out.dtype);
      copyInto(out, copy);
      return copy;
    });
  }

  /** Whether `inputs` have the shapes and dtypes of the captured ones. */
  fits(inputs: readonly Tensor[]): boolean {
    return inputs.length === this.inputs.length && inputs.every((t, i) => sameShape(t.shape, this.inputs[i]!.shape) && t.dtype === this.inputs[i]!.dtype);
  }

  /** The captured function's result for `inputs` (a fresh tensor of the caller's). */
  replay(inputs: readonly Tensor[]): Tensor {
    if (this.outputs.length !== 1) throw new Error(`CapturedRun.replay: the run returns ${this.outputs.length} tensors: use replayMany`);
    return this.replayMany(inputs)[0]!;
  }

  /** The captured function's results for `inputs` (fresh tensors of the caller's). */
  replayMany(inputs: readonly Tensor[]): Tensor[] {
    if (this.disposed) throw new Error('CapturedRun.replay: the run was disposed');
    if (!this.fits(inputs)) {
      throw new Error(
        `CapturedRun.replay: inputs ${inputs.map((t) => fmt(t.shape)).join(', ')} differ from the captured ${this.inputs.map((t) => fmt(t.shape)).join(', ')}`,
      );
    }
    const { dispatcher, device } = runtime();
    const u = this.uniforms;
    if (u && u.live.length > 0) {
      // queue.writeBuffer lands before the open encoder's work: submit a replay still waiting in it first.
      if (dispatcher.hasPendingWork) dispatcher.flush();
      const view = new DataView(u.data.buffer);
      for (const slot of u.live) slot.repack(view, slot.offset);
      // One write from the first live slot to the end of the last (a few hundred bytes apart each).
      const first = u.live[0]!.offset;
      const last = u.live[u.live.length - 1]!;
      device.queue.writeBuffer(u.buffer, first, u.data, first, last.offset + last.bytes - first);
    }
    inputs.forEach((t, i) => copyInto(t, this.inputs[i]!));
    dispatcher.replay(this.commands);
    return this.copiesOfOutputs();
  }

  /** Gives the run's static memory back (after the work queued so far). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const rt = runtime();
    // Work that binds the run's buffers is submitted before they go back (and its uniforms are destroyed).
    rt.dispatcher.flush();
    for (const t of [...this.inputs, ...this.outputs]) t.dispose();
    for (const b of this.claimed) rt.pool.release(b);
    // Destroyed once the queued work that binds it is done.
    const uniforms = this.uniforms?.buffer;
    if (uniforms) void rt.device.queue.onSubmittedWorkDone().then(() => uniforms.destroy());
  }
}

/** What a capture saw: its own inputs, outputs and commands, and the pool's hand-outs meanwhile. */
interface Recording {
  own: Tensor[];
  outs: Tensor[];
  commands: RecordedCommand[];
  acquired: Set<GPUBuffer>;
  uploaded: Set<GPUBuffer>;
  constants: Set<GPUBuffer>;
  handOuts: HandOut[];
}

/** Runs `fn` on the run's own copies of `inputs`, recording its commands and watching the pool. */
function recordRun(inputs: readonly Tensor[], fn: (...inputs: Tensor[]) => Tensor[]): Recording {
  const { dispatcher, pool } = runtime();
  try {
    const watched = pool.watching(() => {
      // The run's own inputs, refilled by each replay (their copies are not part of the run).
      const own = inputs.map((t) => {
        const copy = emptyTensor(t.shape, 'captured-input', t.dtype);
        copyInto(t, copy);
        return copy;
      });
      try {
        // Its own scope: every intermediate is released before the pool's buffers are claimed.
        return { own, ...dispatcher.record(() => scope(() => fn(...own))) };
      } catch (e) {
        for (const t of own) t.dispose();
        throw e;
      }
    }, () => dispatcher.recordedSoFar);
    const { own, result: outs, commands } = watched.result;
    return { own, outs, commands, acquired: watched.acquired, uploaded: watched.uploaded, constants: watched.constants, handOuts: watched.handOuts };
  } catch (e) {
    pool.unparkConstants();
    throw e;
  }
}

/**
 * The recorded commands made replayable: work that reads only frozen buffers (and what such work
 * wrote) left out of the replays, the intermediates placed by the memory plan, every dispatch's
 * uniforms in one buffer and its bind group made once. Invariant work is found per intermediate
 * (a movable buffer's hand-out) and the plan gives what it writes a buffer of its own for the
 * whole run, where it runs once more now; in buffers that stay where they are, and everywhere
 * when the plan saves nothing, it is found per buffer (written once, so what the capture left
 * there stays). Returns the captured buffers the plan moved off, for the caller to retire.
 */
function compile(
  r: Recording,
  claimed: readonly GPUBuffer[],
  frozen: ReadonlySet<GPUBuffer>,
): {
  commands: ReplayCommand[];
  buffers: GPUBuffer[];
  moved: GPUBuffer[];
  uniforms: PreparedUniforms | null;
  dispatches: number;
  memory: { captured: number; planned: number };
} {
  const { dispatcher, device, pool } = runtime();
  const recorded = r.commands;
  const own = new Set(claimed);
  const times = handOutTimes(r.handOuts);
  const movable = movableBuffers(recorded, claimed, times, r.constants);
  const perIntermediate = invariantCommands(recorded, frozen, own, (b, i) => (movable.has(b) ? handOutAt(times.get(b)!, i) : 0));
  const once = new Set(recorded.flatMap((c, i) => (perIntermediate.has(c) ? [i] : [])));
  const plan = planMemory(recorded, claimed, times, movable, (b) => b.size, once);
  try {
    const invariant = plan.planned ? perIntermediate : invariantCommands(recorded, frozen, own, () => 0);
    if (plan.planned && once.size > 0) {
      const onceMore = prepare(plan.commands.filter((c, i): c is RecordedCommand => c !== null && once.has(i)));
      dispatcher.replay(onceMore.commands);
      dispatcher.flush();
      const buffer = onceMore.uniforms?.buffer;
      if (buffer) void device.queue.onSubmittedWorkDone().then(() => buffer.destroy());
    }
    const replayed = prepare(plan.commands.filter((c, i): c is RecordedCommand => c !== null && !invariant.has(recorded[i]!)));
    return { ...replayed, buffers: plan.buffers, moved: plan.moved, memory: { captured: plan.capturedBytes, planned: plan.plannedBytes } };
  } catch (e) {
    // The planned buffers go back; the captured ones are the caller's to release.
    for (const b of plan.buffers) if (!own.has(b)) pool.release(b);
    throw e;
  }
}

/**
 * The buffers a command reads and those it writes. A kernel's read-write binding counts as
 * written only: WGSL needs read_write to store at all, and a kernel that also reads what it stores
 * there reads what another command wrote first, which makes two writers (never invariant).
 */
function accessOf(c: RecordedCommand): { reads: GPUBuffer[]; writes: GPUBuffer[] } {
  if (c.kind === 'copy') return { reads: [c.src], writes: [c.dst] };
  if (c.kind === 'clear') return { reads: [], writes: [c.buffer] };
  return { reads: c.buffers.filter((_, i) => !c.writes[i]).map((b) => b.buffer), writes: c.buffers.filter((_, i) => c.writes[i]).map((b) => b.buffer) };
}

/**
 * The commands whose work is the same on every replay: they read only frozen buffers or the
 * outputs of such commands, and each buffer they write is the run's own and written by nothing
 * else in it (so what they left there at the capture is still there when a replay reads it).
 */
function invariantCommands(
  commands: readonly RecordedCommand[],
  frozen: ReadonlySet<GPUBuffer>,
  own: ReadonlySet<GPUBuffer>,
  handOut: (buffer: GPUBuffer, command: number) => number,
): Set<RecordedCommand> {
  // A value is a buffer's content during one hand-out of it (the whole run for a buffer found per buffer).
  const ids = new Map<GPUBuffer, number>();
  const value = (b: GPUBuffer, i: number) => {
    if (!ids.has(b)) ids.set(b, ids.size);
    return `${ids.get(b)}:${own.has(b) ? handOut(b, i) : 0}`;
  };
  const writers = new Map<string, number>();
  commands.forEach((c, i) => {
    for (const b of new Set(accessOf(c).writes)) {
      if (frozen.has(b)) throw new Error('CapturedRun.capture: the captured work writes a buffer declared frozen');
      const v = value(b, i);
      writers.set(v, (writers.get(v) ?? 0) + 1);
    }
  });
  const unchanging = new Set([...frozen].map((b) => value(b, 0)));
  const invariant = new Set<RecordedCommand>();
  commands.forEach((c, i) => {
    const { reads, writes } = accessOf(c);
    if (writes.length === 0 || (c.kind === 'dispatch' && c.repack)) return;
    const fixedInputs = reads.every((b) => unchanging.has(value(b, i)));
    const soleWriter = writes.every((b) => own.has(b) && writers.get(value(b, i)) === 1);
    if (fixedInputs && soleWriter) {
      invariant.add(c);
      for (const b of writes) unchanging.add(value(b, i));
    }
  });
  return invariant;
}

/** A run's uniforms: one buffer, its CPU copy, and the slots whose live values each replay rewrites. */
interface PreparedUniforms {
  buffer: GPUBuffer;
  data: Uint8Array<ArrayBuffer>;
  live: { offset: number; bytes: number; repack: (view: DataView, offset: number) => void }[];
}

/** The recorded commands as replayable ones: every dispatch's uniforms in one buffer, its bind group made once. */
function prepare(recorded: readonly RecordedCommand[]): { commands: ReplayCommand[]; uniforms: PreparedUniforms | null; dispatches: number } {
  const { device, dispatcher } = runtime();
  const offsets: number[] = [];
  let bytes = 0;
  for (const c of recorded) {
    if (c.kind !== 'dispatch') continue;
    offsets.push(bytes);
    bytes += dispatcher.uniformStride(c.uniforms.byteLength);
  }
  if (offsets.length === 0) return { commands: recorded.filter((c) => c.kind !== 'dispatch') as ReplayCommand[], uniforms: null, dispatches: 0 };
  const data = new Uint8Array(bytes);
  const uniformBuffer = device.createBuffer({ label: 'captured-uniforms', size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const live: PreparedUniforms['live'] = [];
  let d = 0;
  const commands = recorded.map((c): ReplayCommand => {
    if (c.kind !== 'dispatch') return c;
    const offset = offsets[d++]!;
    data.set(c.uniforms, offset);
    if (c.repack) live.push({ offset, bytes: c.uniforms.byteLength, repack: c.repack });
    const bindGroup = device.createBindGroup({
      label: `captured ${c.key}`,
      layout: c.layout,
      entries: [
        { binding: 0, resource: { buffer: uniformBuffer, offset: 0, size: c.uniforms.byteLength } },
        ...c.buffers.map((resource, i) => ({ binding: i + 1, resource })),
      ],
    });
    return { key: c.key, pipeline: c.pipeline, bindGroup, uniformOffsets: [offset], grid: c.grid, role: c.role };
  });
  device.queue.writeBuffer(uniformBuffer, 0, data);
  return { commands, uniforms: { buffer: uniformBuffer, data, live }, dispatches: offsets.length };
}
