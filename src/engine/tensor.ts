// Tensor: a shape over pooled GPU storage (f32, or f16 for sampling), with autodiff links, scopes
// and a live registry.

import { decodeHalf, encodeHalf, storageBytes, type DType } from './dtype.ts';
import { runtime } from './runtime.ts';
import { assertValidShape, fmt, sizeOf, type Shape } from './shape.ts';

/**
 * Storage shared by a tensor and its views (reshape, detach); freed when the last one goes.
 * Pooled storage owns a whole pool buffer; arena storage is a 256-byte-aligned region of a
 * buffer that its arena owns (the parameters of a model, laid out for one fused optimiser).
 */
export class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly bytes: number,
    readonly offset = 0,
    readonly owner: 'pool' | 'arena' = 'pool',
  ) {}
}

/** A recorded op: how to send the output's gradient back to its inputs. */
export interface TapeNode {
  op: string;
  inputs: readonly Tensor[];
  /** Gradients for each input (null where it needs none), given the output's gradient. */
  backward: (gradOutput: Tensor) => (Tensor | null)[];
}

let nextId = 1;
const live = new Map<number, Tensor>();
const scopeStack: Set<Tensor>[] = [];

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly size: number;
  readonly dtype: DType;
  private storageRef: Storage | null;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  node: TapeNode | null = null;
  /** The op that made it, for leak reports and errors. */
  readonly origin: string;
  name: string | undefined;

  constructor(shape: Shape, storage: Storage, origin: string, requiresGrad = false, dtype: DType = 'f32') {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.dtype = dtype;
    this.storageRef = storage;
    this.origin = origin;
    this.requiresGrad = requiresGrad;
    live.set(this.id, this);
    scopeStack[scopeStack.length - 1]?.add(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.storageRef === null;
  }

  get storage(): Storage {
    if (!this.storageRef) throw new Error(`tensor #${this.id} ${fmt(this.shape)} (${this.origin}) was disposed`);
    return this.storageRef;
  }

  /** The region of GPU memory holding the values, as kernels bind it. */
  get buffer(): GPUBufferBinding {
    const s = this.storage;
    return { buffer: s.buffer, offset: s.offset, size: Math.max(4, s.bytes) };
  }

  /** Bytes of storage the values take (whole 4-byte words). */
  get bytes(): number {
    return storageBytes(this.size, this.dtype);
  }

  /** Reads the values back (as f32 whatever the dtype). Submits pending work; the only way data leaves the GPU. */
  async read(): Promise<Float32Array> {
    const bytes = this.bytes;
    if (bytes === 0) return new Float32Array(0);
    return (await Tensor.readAll([this]))[0]!;
  }

  /** The values of several tensors, read back together (one submit, one map). */
  static async readAll(tensors: readonly Tensor[]): Promise<Float32Array[]> {
    const data = await runtime().dispatcher.readbackMany(tensors.map((t) => ({ buffer: t.storage.buffer, offset: t.storage.offset, bytes: t.bytes })));
    return data.map((d, i) => (tensors[i]!.dtype === 'f16' ? decodeHalf(new Uint16Array(d), tensors[i]!.size) : new Float32Array(d)));
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: tensor has shape ${fmt(this.shape)}, not one element`);
    return (await this.read())[0]!;
  }

  /** Frees the storage (when no view still shares it) and this tensor's gradient. */
  dispose(): void {
    if (!this.storageRef) return;
    const s = this.storageRef;
    this.storageRef = null;
    if (--s.refs === 0 && s.owner === 'pool') runtime().pool.release(s.buffer);
    live.delete(this.id);
    for (const scope of scopeStack) scope.delete(this);
    this.node = null;
    this.grad?.dispose();
    this.grad = null;
  }

  /** Keeps this tensor alive past the enclosing scope. */
  keep(): this {
    for (const scope of scopeStack) scope.delete(this);
    return this;
  }

  toString(): string {
    return `Tensor#${this.id}${fmt(this.shape)}${this.name ? ` '${this.name}'` : ''} (${this.origin})`;
  }
}

function refuseHalfGradients(op: string, dtype: DType, requiresGrad: boolean | undefined): void {
  if (dtype === 'f16' && requiresGrad) throw new Error(`${op}: an f16 tensor cannot require gradients (f16 is for sampling; train in f32)`);
}

/** A new tensor over fresh pooled storage; its contents are whatever the kernel writes. */
export function emptyTensor(shape: Shape, origin: string, dtype: DType = 'f32'): Tensor {
  const rt = runtime();
  const bytes = storageBytes(sizeOf(shape), dtype);
  const buffer = rt.pool.acquire(bytes);
  return new Tensor(shape, new Storage(buffer, bytes), origin, false, dtype);
}

/** A tensor that shares `source`'s storage under another shape (same element count and dtype). */
export function viewOf(source: Tensor, shape: Shape, origin: string): Tensor {
  const storage = source.storage;
  storage.refs++;
  return new Tensor(shape, storage, origin, false, source.dtype);
}

export function tensor(
  data: ArrayLike<number>,
  shape: Shape = [data.length],
  options: { requiresGrad?: boolean; name?: string; dtype?: DType } = {},
): Tensor {
  return upload(data, shape, options, false);
}

function upload(data: ArrayLike<number>, shape: Shape, options: { requiresGrad?: boolean; name?: string; dtype?: DType }, isConstant: boolean): Tensor {
  assertValidShape('tensor', shape);
  if (sizeOf(shape) !== data.length) {
    throw new Error(`tensor: ${data.length} values do not fill shape ${fmt(shape)} (${sizeOf(shape)} elements)`);
  }
  const dtype = options.dtype ?? 'f32';
  refuseHalfGradients('tensor', dtype, options.requiresGrad);
  const rt = runtime();
  const values = dtype === 'f16' ? encodeHalf(data) : data instanceof Float32Array ? data : Float32Array.from(data);
  const bytes = storageBytes(data.length, dtype);
  const buffer = isConstant ? rt.pool.acquireConstant(bytes) : rt.pool.acquire(bytes, true);
  if (bytes > 0) rt.device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, bytes);
  const t = new Tensor(shape, new Storage(buffer, bytes), 'tensor', options.requiresGrad ?? false, dtype);
  t.name = options.name;
  return t;
}

/**
 * `tensor` for a constant the op that uploads it uses as such (a table of frequencies): inside a
 * captured run it is the run's own, uploaded once, where per-call data uploaded there is refused.
 */
export function constant(data: ArrayLike<number>, shape: Shape = [data.length]): Tensor {
  return upload(data, shape, {}, true);
}

export function zeros(shape: Shape, options: { requiresGrad?: boolean; dtype?: DType } = {}): Tensor {
  assertValidShape('zeros', shape);
  refuseHalfGradients('zeros', options.dtype ?? 'f32', options.requiresGrad);
  const t = emptyTensor(shape, 'zeros', options.dtype);
  runtime().dispatcher.clear(t.storage.buffer, t.storage.offset, t.bytes);
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

export function full(shape: Shape, value: number, options: { requiresGrad?: boolean } = {}): Tensor {
  return tensor(new Float32Array(sizeOf(shape)).fill(value), shape, options);
}

// ---- scopes --------------------------------------------------------------------------------

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}

/**
 * Runs `fn` and disposes every tensor it created except those it returns (alone, in an array
 * or in a plain object) and those marked with `keep()`. Returned tensors move to the parent scope.
 */
export function scope<T>(fn: () => T): T {
  const created = new Set<Tensor>();
  scopeStack.push(created);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('scope: the function must be synchronous');
  } catch (e) {
    scopeStack.pop();
    for (const t of created) t.dispose();
    throw e;
  }
  scopeStack.pop();
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  for (const t of created) {
    if (kept.has(t)) scopeStack[scopeStack.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}

/** Removes a tensor from every open scope (it is owned elsewhere, e.g. as a gradient). */
export function untrack(t: Tensor): void {
  for (const s of scopeStack) s.delete(t);
}

// ---- live registry ------------------------------------------------------------------------

export interface LiveTensorInfo {
  id: number;
  shape: number[];
  origin: string;
  name?: string;
  bytes: number;
}

export function liveTensorCount(): number {
  return live.size;
}

/** Every live tensor: what a leak report lists. */
export function leakReport(): LiveTensorInfo[] {
  return [...live.values()].map((t) => ({
    id: t.id,
    shape: [...t.shape],
    origin: t.origin,
    ...(t.name ? { name: t.name } : {}),
    bytes: t.bytes,
  }));
}

/** Bytes of live tensor storage, counting shared storage once. */
export function liveTensorBytes(): number {
  const seen = new Set<Storage>();
  let bytes = 0;
  for (const t of live.values()) {
    const s = (t as unknown as { storageRef: Storage | null }).storageRef;
    if (s && !seen.has(s)) {
      seen.add(s);
      bytes += s.bytes;
    }
  }
  return bytes;
}

/** Refuses arguments of different dtypes, naming the op and both arguments (one must be cast). */
export function assertSameDtype(op: string, args: Readonly<Record<string, Tensor | null | undefined>>): void {
  const given = Object.entries(args).filter((e): e is [string, Tensor] => e[1] instanceof Tensor);
  const [firstName, first] = given[0] ?? [];
  const other = given.find(([, t]) => t.dtype !== first!.dtype);
  if (other) throw new Error(`${op}: ${firstName} is ${first!.dtype} but ${other[0]} is ${other[1].dtype}: cast one (cast(t, '${first!.dtype}'))`);
}

export function assertTensor(op: string, arg: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${op}: argument '${arg}' is not a Tensor`);
  if (t.disposed) throw new Error(`${op}: argument '${arg}' (tensor #${t.id} ${fmt(t.shape)}, ${t.origin}) was disposed`);
}
