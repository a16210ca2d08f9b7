// Pooled GPU storage buffers by size class, with live/peak counters.
//
// Reuse rule: a buffer released while the current command encoder still references it may be
// handed to another kernel output in the same encoder (commands run in order, so the new
// writes land after the old reads), but not to an upload, because queue.writeBuffer runs
// before the unsubmitted commands. Such buffers wait in `recentlyReleased` until `onSubmit()`.

const STORAGE_USAGE = GPUBufferUsageFlags();

function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global in browsers and in the `webgpu` Node package once installed.
  const u = (globalThis as { GPUBufferUsage?: typeof GPUBufferUsage }).GPUBufferUsage;
  return u ? u.STORAGE | u.COPY_SRC | u.COPY_DST : 0x80 | 0x04 | 0x08;
}

/** The size class for `bytes`: powers of two up to 64 KiB, then quarter steps (≤25% waste). */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  const pow = 2 ** Math.ceil(Math.log2(b));
  if (pow <= 65536) return pow;
  const quarter = pow / 8; // steps of pow/8 between pow/2 and pow
  return Math.ceil(b / quarter) * quarter;
}

/** A buffer handed out while a capture watched: the bytes asked for, and when (the capture's command count). */
export interface HandOut {
  buffer: GPUBuffer;
  bytes: number;
  at: number;
}

/** What a capture's watch collects: every buffer handed out, those for an upload of data, those holding constants, and each hand-out in order. */
interface Watch {
  acquired: Set<GPUBuffer>;
  uploaded: Set<GPUBuffer>;
  constants: Set<GPUBuffer>;
  handOuts: HandOut[];
  /** The capture's command count now. */
  clock: () => number;
}

export interface PoolStats {
  /** Bytes of every GPU buffer the pool owns (in use or free). */
  allocatedBytes: number;
  /** Bytes of the buffers handed out and not yet released. */
  inUseBytes: number;
  peakInUseBytes: number;
  peakAllocatedBytes: number;
  buffersCreated: number;
  reuses: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private recentlyReleased: GPUBuffer[] = [];
  /** Retired buffers, destroyed at the next submit. */
  private retiring: GPUBuffer[] = [];
  private readonly classOf = new WeakMap<GPUBuffer, number>();
  /** Creation order: free lists are kept in it, so a step that repeats gets the same buffers. */
  private readonly serialOf = new WeakMap<GPUBuffer, number>();
  private stats: PoolStats = {
    allocatedBytes: 0,
    inUseBytes: 0,
    peakInUseBytes: 0,
    peakAllocatedBytes: 0,
    buffersCreated: 0,
    reuses: 0,
  };

  /** While a run is captured: what the pool hands out (src/engine/replay.ts claims it after). */
  private watch: Watch | null = null;
  /** Released constants of the watch, kept out of the free lists until claimed. */
  private parkedConstants: GPUBuffer[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {}

  /**
   * Runs `fn`, collecting every buffer handed out meanwhile (and apart, those handed out for an
   * upload, and those holding constants), with each hand-out in order: the buffer, the bytes asked
   * for and the time `clock` gave then.
   */
  watching<T>(
    fn: () => T,
    clock: () => number = () => 0,
  ): Omit<Watch, 'clock'> & { result: T } {
    if (this.watch) throw new Error('BufferPool.watching: a capture is already watching the pool');
    const watch: Watch = { acquired: new Set(), uploaded: new Set(), constants: new Set(), handOuts: [], clock };
    this.watch = watch;
    try {
      const result = fn();
      return { result, acquired: watch.acquired, uploaded: watch.uploaded, constants: watch.constants, handOuts: watch.handOuts };
    } finally {
      this.watch = null;
    }
  }

  /** Ends a watch's parking of constants: those not claimed become reusable. */
  unparkConstants(): void {
    this.recentlyReleased.push(...this.parkedConstants);
    this.parkedConstants = [];
  }

  /**
   * Takes a released `buffer` out of the pool (a captured run's static memory) until it is
   * released again; false when a tensor still holds it (it is then that tensor's to release).
   */
  claim(buffer: GPUBuffer): boolean {
    const cls = this.classOf.get(buffer);
    if (cls === undefined) throw new Error('BufferPool.claim: buffer does not belong to this pool');
    const free = this.free.get(cls);
    const at = free?.indexOf(buffer) ?? -1;
    const recent = this.recentlyReleased.indexOf(buffer);
    const parked = this.parkedConstants.indexOf(buffer);
    if (at >= 0) free!.splice(at, 1);
    else if (recent >= 0) this.recentlyReleased.splice(recent, 1);
    else if (parked >= 0) this.parkedConstants.splice(parked, 1);
    else return false; // still held by a tensor, which keeps it
    this.stats.inUseBytes += cls;
    this.stats.peakInUseBytes = Math.max(this.stats.peakInUseBytes, this.stats.inUseBytes);
    return true;
  }

  /**
   * A buffer for a constant of `bytes` (an upload): while a capture watches, a new one (a reused
   * one may hold an earlier hand-out of the capture, whose commands would overwrite the constant
   * at every replay), kept from reuse until the capture claims it.
   */
  acquireConstant(bytes: number): GPUBuffer {
    const buffer = this.acquire(bytes, true, this.watch !== null);
    if (this.watch) {
      this.watch.uploaded.delete(buffer);
      this.watch.constants.add(buffer);
    }
    return buffer;
  }

  /** A buffer of at least `bytes`. `forUpload` excludes buffers the open encoder still uses; `fresh` takes a new one. */
  acquire(bytes: number, forUpload = false, fresh = false): GPUBuffer {
    const cls = sizeClass(bytes);
    if (cls > this.maxBufferSize) {
      throw new Error(
        `buffer of ${bytes} bytes exceeds the device's maxBufferSize (${this.maxBufferSize} bytes)`,
      );
    }
    let buffer = fresh ? undefined : this.free.get(cls)?.pop();
    if (!buffer && !forUpload && !fresh) {
      const i = this.recentlyReleased.findIndex((b) => this.classOf.get(b) === cls);
      if (i >= 0) buffer = this.recentlyReleased.splice(i, 1)[0];
    }
    if (buffer) {
      this.stats.reuses++;
    } else {
      buffer = this.device.createBuffer({ size: cls, usage: STORAGE_USAGE });
      this.classOf.set(buffer, cls);
      this.serialOf.set(buffer, this.stats.buffersCreated);
      this.stats.buffersCreated++;
      this.stats.allocatedBytes += cls;
      this.stats.peakAllocatedBytes = Math.max(this.stats.peakAllocatedBytes, this.stats.allocatedBytes);
    }
    this.stats.inUseBytes += cls;
    this.stats.peakInUseBytes = Math.max(this.stats.peakInUseBytes, this.stats.inUseBytes);
    if (this.watch) {
      this.watch.acquired.add(buffer);
      if (forUpload) this.watch.uploaded.add(buffer);
      this.watch.handOuts.push({ buffer, bytes, at: this.watch.clock() });
    }
    return buffer;
  }

  /** Gives `buffer` back for good: destroyed after the next submit (the open encoder may still bind it). */
  retire(buffer: GPUBuffer): void {
    const cls = this.classOf.get(buffer);
    if (cls === undefined) throw new Error('BufferPool.retire: buffer does not belong to this pool');
    this.stats.inUseBytes -= cls;
    this.retiring.push(buffer);
  }

  release(buffer: GPUBuffer): void {
    const cls = this.classOf.get(buffer);
    if (cls === undefined) throw new Error('BufferPool.release: buffer does not belong to this pool');
    this.stats.inUseBytes -= cls;
    if (this.watch?.constants.has(buffer)) this.parkedConstants.push(buffer);
    else this.recentlyReleased.push(buffer);
  }

  /** Called after each queue.submit: released buffers become free for any use. */
  onSubmit(): void {
    for (const b of this.retiring) {
      this.stats.allocatedBytes -= this.classOf.get(b)!;
      b.destroy();
    }
    this.retiring = [];
    const touched = new Set<GPUBuffer[]>();
    for (const b of this.recentlyReleased) {
      const cls = this.classOf.get(b)!;
      let list = this.free.get(cls);
      if (!list) this.free.set(cls, (list = []));
      list.push(b);
      touched.add(list);
    }
    this.recentlyReleased = [];
    // In creation order, the oldest last (popped first), whatever the release order was: the
    // same sequence of acquires then binds the same buffers, and the dispatcher's cached bind
    // groups for them are hit step after step.
    for (const list of touched) list.sort((a, b) => this.serialOf.get(b)! - this.serialOf.get(a)!);
  }

  /** Destroys every free buffer (after a submit), returning their bytes to the device. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.allocatedBytes -= this.classOf.get(b)!;
        b.destroy();
      }
    }
    this.free.clear();
  }

  resetPeaks(): void {
    this.stats.peakInUseBytes = this.stats.inUseBytes;
    this.stats.peakAllocatedBytes = this.stats.allocatedBytes;
  }

  getStats(): PoolStats {
    return { ...this.stats };
  }
}
