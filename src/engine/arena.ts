// A parameter arena: many tensors laid out in one GPU buffer, each region aligned to the
// storage-binding offset alignment. Companion buffers with the same layout (gradients, Adam
// moments, EMA weights) let one dispatch update every parameter at once.

import { runtime } from './runtime.ts';
import { fmt, sizeOf, type Shape } from './shape.ts';
import { Storage, Tensor } from './tensor.ts';

export interface ArenaEntry {
  name: string;
  shape: Shape;
  /** First element of the region. */
  offset: number;
  size: number;
}

export class ParameterArena {
  readonly entries: ArenaEntry[];
  /** Elements in a buffer of this layout, gaps included. */
  readonly totalElements: number;
  private readonly buffers: GPUBuffer[] = [];

  constructor(layout: readonly { name: string; shape: Shape }[]) {
    const alignElements = runtime().device.limits.minStorageBufferOffsetAlignment / 4;
    let at = 0;
    this.entries = layout.map(({ name, shape }) => {
      const entry = { name, shape: [...shape], offset: at, size: sizeOf(shape) };
      at += Math.ceil(Math.max(1, entry.size) / alignElements) * alignElements;
      return entry;
    });
    this.totalElements = at;
  }

  get bytes(): number {
    return this.totalElements * 4;
  }

  /** Bytes of every buffer made with this layout (parameters, gradients, Adam's moments, EMA…). */
  get allocatedBytes(): number {
    return this.buffers.length * this.bytes;
  }

  /** A zero-filled buffer with this layout; destroyed with the arena. */
  createBuffer(label: string): GPUBuffer {
    const rt = runtime();
    // Kernels bind it in chunks (flatChunks), so only the buffer limit applies.
    if (this.bytes > rt.device.limits.maxBufferSize) {
      throw new Error(`parameter arena of ${this.bytes} bytes exceeds this device's maxBufferSize (${rt.device.limits.maxBufferSize})`);
    }
    const buffer = rt.device.createBuffer({
      label,
      size: this.bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.buffers.push(buffer);
    return buffer;
  }

  /** Tensors viewing each region of `buffer` (they never free it). */
  tensorsOver(buffer: GPUBuffer, origin: string): Tensor[] {
    return this.entries.map((e) => {
      const t = new Tensor(e.shape, new Storage(buffer, e.size * 4, e.offset * 4, 'arena'), origin);
      t.name = e.name;
      return t;
    });
  }

  /** The whole buffer as one flat tensor (gaps included; they stay zero). */
  flatTensor(buffer: GPUBuffer, origin: string): Tensor {
    return new Tensor([this.totalElements], new Storage(buffer, this.bytes, 0, 'arena'), origin);
  }

  /**
   * The whole buffer as consecutive flat views, each within one storage binding
   * (runtime().bindingLimitBytes) and starting at an aligned offset: elementwise updates
   * (Adam, EMA) run one launch per chunk, the same chunks for every buffer of this layout.
   */
  flatChunks(buffer: GPUBuffer, origin: string): Tensor[] {
    const rt = runtime();
    const align = rt.device.limits.minStorageBufferOffsetAlignment / 4;
    const per = Math.max(align, Math.floor(rt.bindingLimitBytes / 4 / align) * align);
    const chunks: Tensor[] = [];
    for (let start = 0; start < this.totalElements; start += per) {
      const size = Math.min(per, this.totalElements - start);
      chunks.push(new Tensor([size], new Storage(buffer, size * 4, start * 4, 'arena'), origin));
    }
    return chunks;
  }

  /** Writes values (e.g. initial weights) into entry `index` of `buffer`. */
  upload(buffer: GPUBuffer, index: number, values: Float32Array): void {
    const e = this.entries[index]!;
    if (values.length !== e.size) {
      throw new Error(`arena upload: ${values.length} values for '${e.name}' ${fmt(e.shape)} (${e.size})`);
    }
    // writeBuffer runs before unsubmitted commands: submit them first so they see the old values.
    runtime().dispatcher.flush();
    runtime().device.queue.writeBuffer(buffer, e.offset * 4, values.buffer, values.byteOffset, values.byteLength);
  }

  /** Copies every region of `from` into `to` on the shared encoder. */
  copyAll(from: GPUBuffer, to: GPUBuffer): void {
    runtime().dispatcher.copy(from, 0, to, 0, this.bytes);
  }

  destroy(): void {
    runtime().dispatcher.flush(); // commands already encoded may still read these buffers
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }
}
