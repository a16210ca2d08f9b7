// One shared command encoder for all ops of a step, a pipeline cache keyed by kernel and
// specialisation, per-dispatch uniforms in a chunked arena, `flush()` and explicit readback.

import { bindGroupLayoutEntries, type KernelVariant } from '../shaders/kernel.ts';
import type { BufferPool } from './buffer-pool.ts';
import { StagingPool } from './staging-pool.ts';

/**
 * Uniform slots per chunk: 4096 dispatches of 256 bytes, so a submit's dispatches almost always
 * share one chunk (its buffer is part of the bind-group cache key; the slot is a dynamic offset).
 */
const UNIFORM_CHUNK_BYTES = 1024 * 1024;
/** Cached bind groups kept before the cache starts over (a training step uses a few thousand). */
const BIND_GROUP_CACHE_ENTRIES = 16384;
/** Timestamp queries per query set: a begin and an end for each of 256 compute passes. */
const TIMESTAMP_QUERIES_PER_SET = 512;

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  variant: KernelVariant;
  /** The kernel declaration that made it: two declarations may not share a key. */
  owner: object;
}

/** A chunk of the uniform arena: a CPU mirror uploaded once per submit. */
interface UniformChunk {
  buffer: GPUBuffer;
  mirror: ArrayBuffer;
  view: DataView;
  used: number;
}

/** One command of a recorded run (src/engine/replay.ts replays them). */
export type RecordedCommand =
  | {
      kind: 'dispatch';
      key: string;
      pipeline: GPUComputePipeline;
      layout: GPUBindGroupLayout;
      /** The dispatch's packed uniforms. */
      uniforms: Uint8Array;
      buffers: readonly GPUBufferBinding[];
      /** Per binding: whether the kernel may write it (its access is not 'read'). */
      writes: readonly boolean[];
      grid: readonly [number, number, number];
      role: string | null;
      /** For uniforms with live values: packs them as they are now (a replay calls it first). */
      repack: ((view: DataView, offset: number) => void) | null;
    }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number }
  | { kind: 'clear'; buffer: GPUBuffer; offset: number; bytes: number };

/** A dispatch of a recorded run as it is replayed: its bind group made once, over a replay's own uniforms. */
export interface ReplayDispatch {
  key: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /** The dynamic offset of its uniforms, made once (an array per call costs a JS allocation). */
  uniformOffsets: readonly number[];
  grid: readonly [number, number, number];
  role: string | null;
}

export type ReplayCommand = ReplayDispatch | Extract<RecordedCommand, { kind: 'copy' | 'clear' }>;

export interface DispatchCounters {
  pipelinesCreated: number;
  dispatches: number;
  submits: number;
  readbacks: number;
}

/** GPU time of the compute passes encoded during one pass-timing window (timestamp queries). */
export interface PassTimings {
  /** Compute passes timed. */
  passes: number;
  /** Sum of the passes' durations (end − begin), in ms: time spent inside compute passes. */
  passMs: number;
  /** From the first pass's begin to the last pass's end, in ms (includes copies and gaps). */
  spanMs: number;
  /** With per-kernel timing: GPU ms and dispatch count by kernel key. */
  byKernel?: Record<string, { ms: number; count: number }>;
}

/**
 * Hands out timestamp slots for compute passes. Query sets are kept and reused across windows;
 * a window with more passes than one set holds just takes another set.
 */
class PassTimer {
  private readonly querySets: GPUQuerySet[] = [];
  private passesTimed = 0;

  constructor(private readonly device: GPUDevice) {}

  reset(): void {
    this.passesTimed = 0;
  }

  get passes(): number {
    return this.passesTimed;
  }

  /** The timestampWrites for the next compute pass. */
  nextPassWrites(): GPUComputePassTimestampWrites {
    const perSet = TIMESTAMP_QUERIES_PER_SET / 2;
    const setIndex = Math.floor(this.passesTimed / perSet);
    while (this.querySets.length <= setIndex) {
      this.querySets.push(
        this.device.createQuerySet({
          label: `pass-timestamps-${this.querySets.length}`,
          type: 'timestamp',
          count: TIMESTAMP_QUERIES_PER_SET,
        }),
      );
    }
    const slot = (this.passesTimed % perSet) * 2;
    this.passesTimed++;
    return { querySet: this.querySets[setIndex]!, beginningOfPassWriteIndex: slot, endOfPassWriteIndex: slot + 1 };
  }

  /** Encodes the resolve of every written query into `into` (QUERY_RESOLVE), set after set. */
  encodeResolve(encoder: GPUCommandEncoder, into: GPUBuffer): void {
    const perSet = TIMESTAMP_QUERIES_PER_SET / 2;
    for (let first = 0, set = 0; first < this.passesTimed; first += perSet, set++) {
      const passes = Math.min(perSet, this.passesTimed - first);
      encoder.resolveQuerySet(this.querySets[set]!, 0, passes * 2, into, first * 2 * 8);
    }
  }
}

/** Timings whose query resolve is encoded; `read()` submits pending work and maps them. */
export interface PendingPassTimings {
  read(): Promise<PassTimings>;
}

/** `stamps` holds a (begin, end) pair of nanosecond timestamps per pass. */
function summarizeTimestamps(stamps: BigUint64Array, passes: number, keys?: readonly string[]): PassTimings {
  let passNs = 0;
  const byKernel: Record<string, { ms: number; count: number }> = {};
  let first = stamps[0]!;
  let last = stamps[1]!;
  for (let i = 0; i < passes; i++) {
    const begin = stamps[2 * i]!;
    const end = stamps[2 * i + 1]!;
    if (end > begin) passNs += Number(end - begin);
    if (keys) {
      const k = (byKernel[keys[i]!] ??= { ms: 0, count: 0 });
      k.ms += end > begin ? Number(end - begin) / 1e6 : 0;
      k.count++;
    }
    if (begin < first) first = begin;
    if (end > last) last = end;
  }
  return {
    passes,
    passMs: passNs / 1e6,
    spanMs: last > first ? Number(last - first) / 1e6 : 0,
    ...(keys ? { byKernel } : {}),
  };
}

export class Dispatcher {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly uniformChunks: UniformChunk[] = [];
  private chunkInUse = 0;
  private readonly slotAlign: number;
  readonly counters: DispatchCounters = { pipelinesCreated: 0, dispatches: 0, submits: 0, readbacks: 0 };
  /** Submit automatically after this many dispatches (0: only on flush/read). */
  autoFlushEvery = 0;
  private dispatchesSinceSubmit = 0;
  /** Created on first use and kept; `passTimingOpen` says whether passes write timestamps now. */
  private passTimer: PassTimer | null = null;
  private passTimingOpen = false;
  /** Per-kernel timing: one pass per dispatch, labelled with its kernel key (and role). */
  private passKeys: string[] | null = null;
  /** What the dispatches encoded now are for (e.g. a conv's 'grad-weight'); labels timed passes. */
  private role: string | null = null;
  /** While `probeKernels` runs: the pipeline keys dispatched, none of them built or encoded. */
  private probe: Set<string> | null = null;
  /** While `dry` runs: encoded work is dropped at each flush instead of submitted. */
  private dropping = false;
  /** While a run is captured: its commands, in order. */
  private recording: RecordedCommand[] | null = null;

  private readonly staging: StagingPool;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;

  constructor(
    readonly device: GPUDevice,
    private readonly pool: BufferPool,
  ) {
    this.slotAlign = device.limits.minUniformBufferOffsetAlignment || 256;
    this.staging = new StagingPool(device);
  }

  /**
   * The cached pipeline for `key` (derived from `owner`, a kernel declaration, and its
   * specialisation), building the kernel's WGSL only on a miss.
   */
  pipelineFor(owner: object, key: string, build: () => KernelVariant): CachedPipeline {
    let cached = this.pipelines.get(key);
    if (cached) {
      if (cached.owner !== owner) throw new Error(`two kernel declarations make the pipeline key '${key}'`);
      return cached;
    }
    const variant = build();
    if (variant.key !== key) throw new Error(`kernel key mismatch: asked '${key}', built '${variant.key}'`);
    const layout = this.device.createBindGroupLayout({ label: key, entries: bindGroupLayoutEntries(variant) });
    const module = this.device.createShaderModule({ label: key, code: variant.code });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    this.counters.pipelinesCreated++;
    cached = { pipeline, layout, variant, owner };
    this.pipelines.set(key, cached);
    return cached;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** The keys of the pipelines built so far. */
  pipelineKeys(): string[] {
    return [...this.pipelines.keys()];
  }

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'ddpm-step' });
    return this.encoder;
  }

  private ensurePass(): GPUComputePassEncoder {
    if (!this.pass) {
      const timestampWrites = this.passTimingOpen ? this.passTimer!.nextPassWrites() : undefined;
      this.pass = this.ensureEncoder().beginComputePass(timestampWrites ? { timestampWrites } : {});
    }
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Reserves a uniform slot for this dispatch and packs `values` into it. */
  private uniformSlot(variant: KernelVariant, values: object): GPUBufferBinding {
    const size = variant.uniforms.byteSize;
    const slot = this.uniformStride(size);
    let chunk = this.uniformChunks[this.chunkInUse];
    if (chunk && chunk.used + slot > UNIFORM_CHUNK_BYTES) chunk = this.uniformChunks[++this.chunkInUse];
    if (!chunk) {
      const mirror = new ArrayBuffer(UNIFORM_CHUNK_BYTES);
      chunk = {
        buffer: this.device.createBuffer({
          label: `uniforms-${this.uniformChunks.length}`,
          size: UNIFORM_CHUNK_BYTES,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        mirror,
        view: new DataView(mirror),
        used: 0,
      };
      this.uniformChunks.push(chunk);
    }
    const offset = chunk.used;
    variant.uniforms.pack(values, chunk.view, offset);
    chunk.used += slot;
    return { buffer: chunk.buffer, offset, size };
  }

  /**
   * The bind group of a dispatch, from a cache: creating one costs more than the rest of a
   * dispatch's encoding (about 17 of 26 µs per elementwise op, Dawn in Node), and a training
   * step binds the same pooled buffers to the same kernels step after step. The uniform slot's
   * offset is dynamic, so only its chunk is part of the key.
   */
  private bindGroupFor(key: string, layout: GPUBindGroupLayout, uniform: GPUBufferBinding, buffers: readonly GPUBufferBinding[]): GPUBindGroup {
    let cacheKey = `${key}#${this.bufferId(uniform.buffer)}`;
    for (const b of buffers) cacheKey += `|${this.bufferId(b.buffer)}:${b.offset ?? 0}:${b.size ?? -1}`;
    let group = this.bindGroups.get(cacheKey);
    if (!group) {
      // Entries of destroyed buffers are never hit again (ids are not reused): start over now and then.
      if (this.bindGroups.size >= BIND_GROUP_CACHE_ENTRIES) this.bindGroups.clear();
      group = this.device.createBindGroup({
        layout,
        entries: [
          { binding: 0, resource: { buffer: uniform.buffer, offset: 0, size: uniform.size } },
          ...buffers.map((resource, i) => ({ binding: i + 1, resource })),
        ],
      });
      this.bindGroups.set(cacheKey, group);
    }
    return group;
  }

  private bufferId(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }

  /**
   * Encodes one dispatch on the shared encoder. Called by `launch` (src/engine/ops/launch.ts),
   * which derives `key` and orders `buffers` by binding from the kernel's declaration.
   */
  dispatch(
    owner: object,
    key: string,
    build: () => KernelVariant,
    uniforms: object,
    buffers: readonly GPUBufferBinding[],
    grid: readonly [number, number, number],
    /** The uniforms read again (live values), for a recording's replays; null when none is live. */
    reread: (() => object) | null = null,
  ): void {
    if (this.probe) {
      this.probe.add(key);
      return;
    }
    const { pipeline, layout, variant } = this.pipelineFor(owner, key, build);
    if (buffers.length !== variant.storage.length) {
      throw new Error(`kernel '${key}' takes ${variant.storage.length} buffers, got ${buffers.length}`);
    }
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const uniform = this.uniformSlot(variant, uniforms);
    if (this.recording) {
      const chunk = this.uniformChunks[this.chunkInUse]!;
      const packed = new Uint8Array(chunk.mirror, uniform.offset!, uniform.size!).slice();
      const writes = variant.storage.map((b) => b.access !== 'read');
      const repack = reread ? (view: DataView, offset: number) => variant.uniforms.pack(reread(), view, offset) : null;
      this.recording.push({ kind: 'dispatch', key, pipeline, layout, uniforms: packed, buffers: [...buffers], writes, grid: [...grid], role: this.role, repack });
    }
    const bindGroup = this.bindGroupFor(key, layout, uniform, buffers);
    if (this.passKeys) {
      this.endPass(); // per-kernel timing: this dispatch gets a pass (and timestamps) of its own
      this.passKeys.push(this.role ? `${key}@${this.role}` : key);
    }
    const pass = this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, [uniform.offset!]);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    if (this.passKeys) this.endPass();
    this.counters.dispatches++;
    if (this.autoFlushEvery > 0 && ++this.dispatchesSinceSubmit >= this.autoFlushEvery) this.flush();
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.recording?.push({ kind: 'copy', src, srcOffset, dst, dstOffset, bytes });
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  clear(buffer: GPUBuffer, offset: number, bytes: number): void {
    this.recording?.push({ kind: 'clear', buffer, offset, bytes });
    this.endPass();
    this.ensureEncoder().clearBuffer(buffer, offset, Math.ceil(bytes / 4) * 4);
  }

  get hasPendingWork(): boolean {
    return this.encoder !== null;
  }

  /** Submits everything encoded so far (uniforms first) in one queue.submit. */
  flush(): void {
    this.dispatchesSinceSubmit = 0;
    if (!this.encoder) return;
    this.endPass();
    if (this.dropping) {
      this.encoder = null;
      this.dropUniforms();
      this.pool.onSubmit();
      return;
    }
    for (let i = 0; i <= this.chunkInUse && i < this.uniformChunks.length; i++) {
      const c = this.uniformChunks[i]!;
      if (c.used > 0) this.device.queue.writeBuffer(c.buffer, 0, c.mirror, 0, c.used);
      c.used = 0;
    }
    this.chunkInUse = 0;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.counters.submits++;
    this.pool.onSubmit();
  }

  /** Copies each region into one mappable buffer, submits, and resolves with each region's bytes (one submit, one map). */
  async readbackMany(regions: readonly { buffer: GPUBuffer; offset: number; bytes: number }[]): Promise<ArrayBuffer[]> {
    if (this.recording) throw new Error('a captured run cannot read back: its result must stay on the GPU');
    if (this.dropping) throw new Error('a dry run cannot read back: its work is never submitted');
    const at: number[] = [];
    let size = 0;
    for (const r of regions) {
      at.push(size);
      size += Math.ceil(r.bytes / 4) * 4;
    }
    const staged = Math.max(4, size);
    const staging = this.staging.acquire(staged);
    regions.forEach((r, i) => this.copy(r.buffer, r.offset, staging, at[i]!, Math.ceil(r.bytes / 4) * 4));
    this.flush();
    this.counters.readbacks++;
    let mapped = false;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, staged);
      mapped = true;
      const all = staging.getMappedRange(0, staged);
      return regions.map((r, i) => all.slice(at[i]!, at[i]! + r.bytes));
    } finally {
      if (mapped) {
        staging.unmap();
        this.staging.release(staging);
      } else staging.destroy();
    }
  }

  /**
   * The pipeline keys of the dispatches `encode` makes, found without building a pipeline or
   * encoding a dispatch (copies and clears still run): which kernels a piece of work needs, at
   * the cost of its JavaScript alone. Buffers written only by the skipped dispatches keep what
   * they held, so nothing computed inside is meaningful.
   */
  probeKernels(encode: () => void): Set<string> {
    if (this.probe) throw new Error('probeKernels: a probe is already running');
    const keys = new Set<string>();
    this.probe = keys;
    try {
      encode();
    } finally {
      this.probe = null;
      // Submits the probe's copies and clears, so the buffers it released can be reused.
      this.flush();
    }
    return keys;
  }

  /**
   * Runs `encode` as usual (its dispatches encoded and counted) and returns the commands it made,
   * in order: what src/engine/replay.ts replays. Reading back inside is refused.
   */
  record<T>(encode: () => T): { result: T; commands: RecordedCommand[] } {
    if (this.recording || this.probe) throw new Error('record: a recording or a probe is already running');
    const commands: RecordedCommand[] = [];
    this.recording = commands;
    try {
      return { result: encode(), commands };
    } finally {
      this.recording = null;
    }
  }

  /**
   * Runs `encode` with its work encoded as usual (pipelines built, buffers handed out, commands
   * recorded) but never submitted: what it would allocate, at the cost of its JavaScript and
   * pipelines alone (a large step's memory on a slow adapter). Buffers keep what they held; a
   * read back inside is refused.
   */
  dry<T>(encode: () => T): T {
    if (this.dropping || this.probe) throw new Error('dry: a dry run or a probe is already running');
    this.flush();
    this.dropping = true;
    try {
      const result = encode();
      this.flush();
      return result;
    } finally {
      this.dropping = false;
      this.encoder = null;
      this.pass = null;
      this.dropUniforms();
    }
  }

  /** Forgets the uniforms packed since the last submit (a dry run's, never written). */
  private dropUniforms(): void {
    for (const c of this.uniformChunks) c.used = 0;
    this.chunkInUse = 0;
  }

  /** Commands recorded so far by the running `record` (0 outside one). */
  get recordedSoFar(): number {
    return this.recording?.length ?? 0;
  }

  /** Bytes one dispatch's uniforms take in a uniform buffer (a multiple of the device's offset alignment). */
  uniformStride(bytes: number): number {
    return Math.ceil(bytes / this.slotAlign) * this.slotAlign;
  }

  /**
   * Encodes a recorded run again: its pipelines, bind groups (over the replay's own uniforms) and
   * copies, with none of the ops that made them run. Counted and timed like any dispatch.
   */
  replay(commands: readonly ReplayCommand[]): void {
    if (this.recording || this.probe) throw new Error('replay: not inside a recording or a probe');
    let lastPipeline: GPUComputePipeline | null = null;
    for (const c of commands) {
      if ('kind' in c) {
        if (c.kind === 'copy') this.copy(c.src, c.srcOffset, c.dst, c.dstOffset, c.bytes);
        else this.clear(c.buffer, c.offset, c.bytes);
        lastPipeline = null;
        continue;
      }
      if (this.passKeys) {
        this.endPass();
        this.passKeys.push(c.role ? `${c.key}@${c.role}` : c.key);
        lastPipeline = null;
      }
      const pass = this.ensurePass();
      if (c.pipeline !== lastPipeline) pass.setPipeline(c.pipeline);
      lastPipeline = c.pipeline;
      pass.setBindGroup(0, c.bindGroup, c.uniformOffsets);
      pass.dispatchWorkgroups(c.grid[0], c.grid[1], c.grid[2]);
      if (this.passKeys) this.endPass();
      this.counters.dispatches++;
      if (this.autoFlushEvery > 0 && ++this.dispatchesSinceSubmit >= this.autoFlushEvery) {
        this.flush();
        lastPipeline = null;
      }
    }
  }

  /** Runs `encode` with its dispatches labelled `role` in per-kernel timings (`kernel[...]@role`). */
  withRole<T>(role: string, encode: () => T): T {
    const outer = this.role;
    this.role = role;
    try {
      return encode();
    } finally {
      this.role = outer;
    }
  }

  /** Whether the device can time compute passes (it has the 'timestamp-query' feature). */
  get canTimePasses(): boolean {
    return this.device.features.has('timestamp-query');
  }

  /**
   * Opens a pass-timing window: every compute pass encoded from now until `endPassTiming()`
   * writes GPU timestamps at its beginning and end. Work already encoded is not timed.
   */
  startPassTiming(options: { perKernel?: boolean } = {}): void {
    if (!this.canTimePasses) throw new Error("startPassTiming: the device lacks the 'timestamp-query' feature");
    if (this.passTimingOpen) throw new Error('startPassTiming: a pass-timing window is already open');
    this.endPass();
    this.passTimer ??= new PassTimer(this.device);
    this.passTimer.reset();
    this.passTimingOpen = true;
    this.passKeys = options.perKernel ? [] : null;
  }

  /**
   * Closes the window: later passes are not timed. Encodes the query resolve on the open encoder
   * (nothing is submitted); the timings are read with `read()` once the work has been issued.
   */
  endPassTiming(): PendingPassTimings {
    const timer = this.passTimer;
    if (!this.passTimingOpen || !timer) throw new Error('endPassTiming: no pass-timing window is open');
    this.endPass();
    this.passTimingOpen = false;
    const keys = this.passKeys ?? undefined;
    this.passKeys = null;
    const passes = timer.passes;
    if (passes === 0) return { read: async () => ({ passes: 0, passMs: 0, spanMs: 0 }) };
    const bytes = passes * 2 * 8;
    const resolved = this.device.createBuffer({
      label: 'pass-timestamps-resolved',
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = this.device.createBuffer({
      label: 'pass-timestamps-staging',
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.ensureEncoder();
    timer.encodeResolve(encoder, resolved);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    return {
      read: async () => {
        this.flush();
        try {
          await staging.mapAsync(GPUMapMode.READ);
          return summarizeTimestamps(new BigUint64Array(staging.getMappedRange().slice(0)), passes, keys);
        } finally {
          staging.destroy();
          resolved.destroy();
        }
      },
    };
  }
}
