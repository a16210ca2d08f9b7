// The narrow entry point for writing a new op outside the engine's own folder: declare a kernel,
// launch it on tensors, and record its backward rule. Everything else comes from index.ts.

export { defineKernel, comptime, type UniformDecls, type BindingDecls } from '../shaders/kernel.ts';
export { launch, type BufferArg, type Workgroups } from './ops/launch.ts';
export { record } from './tape.ts';
export { emptyTensor, assertTensor, type Tensor } from './tensor.ts';
export { fmt, sameShape, sizeOf, broadcastShapes, type Shape } from './shape.ts';
