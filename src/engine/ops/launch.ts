// Shared launch helpers: the one place ops turn a kernel spec into an encoded dispatch.

import { foldedGrid, type KernelSpec, type UniformValues } from '../../shaders/common.ts';
import { runtime } from '../runtime.ts';

/** Encodes `build()`'s kernel (cached under `key`) over `count` items, one per invocation. */
export function launchLinear(
  key: string,
  build: () => KernelSpec,
  uniforms: UniformValues,
  buffers: readonly GPUBufferBinding[],
  count: number,
  workgroupSize: number,
): void {
  if (count === 0) return;
  const d = runtime().dispatcher;
  d.dispatch(key, build, uniforms, buffers, foldedGrid(Math.ceil(count / workgroupSize)));
}

/** Encodes a kernel over an explicit workgroup grid. */
export function launchGrid(
  key: string,
  build: () => KernelSpec,
  uniforms: UniformValues,
  buffers: readonly GPUBufferBinding[],
  grid: readonly [number, number, number],
): void {
  runtime().dispatcher.dispatch(key, build, uniforms, buffers, grid);
}
