// The one place ops turn a kernel declaration into an encoded dispatch: buffers and uniforms are
// passed by name, checked against the declaration (at compile time through the types, and at
// run time for JS callers), and the pipeline key is derived from it (src/shaders/kernel.ts).

import { foldedGrid } from '../../shaders/common.ts';
import type { BindingArgs, BindingDecls, Kernel, SpecDecls, SpecValues, UniformDecls, UniformValues } from '../../shaders/kernel.ts';
import { runtime } from '../runtime.ts';
import { SHADER_F16, type DType } from '../dtype.ts';
import { hasLive, readLive, type Live } from '../live.ts';
import { Tensor } from '../tensor.ts';

/** A buffer for a binding: a tensor (its region), or a binding of a raw buffer (arenas). */
export type BufferArg = Tensor | GPUBufferBinding;
export type Workgroups = readonly [number, number, number];

/** A launch's uniforms: each number may be live (read again at every replay of a captured run). */
export type LaunchUniforms<U extends UniformDecls> = { readonly [K in keyof UniformValues<U>]: UniformValues<U>[K] | (UniformValues<U>[K] extends number ? Live : never) };

/** Keys of T that Shape does not have must be absent: an extra field is a type error. */
type NoExtra<T, Shape> = { readonly [K in Exclude<keyof T, keyof Shape>]: never };

const bindingOf = (b: BufferArg): GPUBufferBinding => (b instanceof Tensor ? b.buffer : b);

/**
 * Encodes `kernel` specialised by `spec`, with its storage bindings from `buffers` and its
 * uniforms from `uniforms`, both by name. A 1-D kernel (declared with `invocations`) derives its
 * grid from that uniform and is skipped when it is 0; any other kernel takes its workgroup grid.
 */
export function launch<
  U extends UniformDecls,
  B extends BindingDecls,
  S extends SpecDecls,
  Linear extends boolean,
  const Bf extends BindingArgs<B, BufferArg>,
  const V extends LaunchUniforms<U>,
>(
  kernel: Kernel<U, B, S, Linear>,
  spec: SpecValues<S>,
  buffers: Bf & NoExtra<Bf, BindingArgs<B, BufferArg>>,
  given: V & NoExtra<V, UniformValues<U>>,
  ...grid: Linear extends true ? [] : [workgroups: Workgroups]
): void {
  const prepared = kernel.prepare<BufferArg>(spec, buffers, elemOf(kernel, buffers as Readonly<Record<string, BufferArg | null | undefined>>));
  const uniforms = readLive(given) as UniformValues<U>;
  kernel.uniforms.check(uniforms);
  let workgroups: Workgroups;
  if (kernel.invocations !== null) {
    if (grid.length > 0) throw new Error(`kernel '${kernel.name}' is 1-D: its grid comes from '${kernel.invocations}'`);
    const count = (uniforms as Readonly<Record<string, number>>)[kernel.invocations]!;
    if (count === 0) return;
    workgroups = foldedGrid(Math.ceil(count / kernel.workgroupSize[0]));
  } else {
    const given = grid[0];
    if (!given) throw new Error(`kernel '${kernel.name}' needs a workgroup grid`);
    workgroups = given;
  }
  checkBindingSizes(kernel.name, buffers as Readonly<Record<string, BufferArg | null | undefined>>);
  const reread = hasLive(given) ? () => readLive(given) : null;
  runtime().dispatcher.dispatch(kernel, prepared.key, prepared.build, uniforms, prepared.buffers.map(bindingOf), workgroups, reread);
}

/**
 * The storage type of a launch's Elem bindings: the dtype of the tensors bound there, which must
 * agree (an f16 activation with an f32 weight is refused, naming both).
 */
function elemOf(
  kernel: { name: string; elemBindings: readonly string[]; storage: readonly { name: string; type: string }[] },
  buffers: Readonly<Record<string, BufferArg | null | undefined>>,
): DType {
  for (const { name, type } of kernel.storage) {
    const b = buffers[name];
    if (b instanceof Tensor && b.dtype !== 'f32' && (type === 'f32' || type === 'vec4<f32>')) {
      throw new Error(`kernel '${kernel.name}' takes f32 in binding '${name}', got ${b.dtype} ${b.toString()}: this op has no ${b.dtype} kernel (cast(t, 'f32') first)`);
    }
  }
  let elem: DType | null = null;
  let first = '';
  for (const name of kernel.elemBindings) {
    const b = buffers[name];
    if (!b) continue;
    const dtype = b instanceof Tensor ? b.dtype : 'f32';
    if (elem === null) {
      elem = dtype;
      first = name;
    } else if (dtype !== elem) {
      throw new Error(`kernel '${kernel.name}': binding '${first}' holds ${elem} and '${name}' ${dtype}: cast one (cast(t, '${elem}'))`);
    }
  }
  if (elem === 'f16' && !runtime().hasF16) {
    throw new Error(`kernel '${kernel.name}': f16 tensors need the adapter feature '${SHADER_F16}', which this adapter lacks`);
  }
  return elem ?? 'f32';
}

/**
 * Refuses a tensor larger than one storage binding may span, naming the kernel and the binding
 * (WebGPU would only report a validation error on the bind group). Arenas check their own size.
 */
function checkBindingSizes(kernel: string, buffers: Readonly<Record<string, BufferArg | null | undefined>>): void {
  const limit = runtime().bindingLimitBytes;
  for (const name in buffers) {
    const b = buffers[name];
    if (b instanceof Tensor && b.bytes > limit) {
      throw new Error(
        `kernel '${kernel}': binding '${name}' holds ${b.origin} [${b.shape}] (${(b.bytes / 2 ** 20).toFixed(1)} MiB), over this device's storage-binding limit of ${(limit / 2 ** 20).toFixed(1)} MiB: use a smaller batch`,
      );
    }
  }
}
