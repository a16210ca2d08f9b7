// Mappable buffers for readback, kept for reuse: creating and first-mapping a MAP_READ buffer
// costs a driver allocation on a real GPU, and the bench and the trainer read back small values
// (a loss, a sync scalar) every step. Buffers come in power-of-two sizes; large ones are not kept.

/** Readbacks up to this size reuse buffers; larger ones get a buffer of their own. */
const POOLED_MAX_BYTES = 4 * 1024 * 1024;
/** Idle buffers kept per size class. */
const KEPT_PER_SIZE = 2;
const MIN_BYTES = 256;

export class StagingPool {
  private readonly idle = new Map<number, GPUBuffer[]>();

  constructor(private readonly device: GPUDevice) {}

  /** An unmapped MAP_READ | COPY_DST buffer of at least `bytes` bytes. */
  acquire(bytes: number): GPUBuffer {
    const size = bytes > POOLED_MAX_BYTES ? Math.ceil(bytes / 4) * 4 : Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(bytes)));
    const kept = this.idle.get(size)?.pop();
    if (kept) return kept;
    return this.device.createBuffer({ label: 'readback-staging', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Takes back an unmapped buffer from `acquire`: kept for the next readback, or destroyed. */
  release(buffer: GPUBuffer): void {
    const list = this.idle.get(buffer.size) ?? [];
    if (buffer.size > POOLED_MAX_BYTES || list.length >= KEPT_PER_SIZE) {
      buffer.destroy();
      return;
    }
    list.push(buffer);
    this.idle.set(buffer.size, list);
  }
}
