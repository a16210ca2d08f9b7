// The narrow entry point for writing a new op outside the engine's own folder: declare a kernel,
// launch it on tensors, and record its backward rule. Everything else comes from index.ts.

export { defineKernel, comptime, type UniformDecls, type BindingDecls } from '../shaders/kernel.ts';
export { launch, type BufferArg, type Workgroups } from './ops/launch.ts';
export { record } from './tape.ts';
export { emptyTensor, assertTensor, type Tensor } from './tensor.ts';
export { fmt, sameShape, sizeOf, broadcastShapes, type Shape } from './shape.ts';
// Non-recording launchers, for backward rules (which must not record on the tape).
export { unaryRaw, binaryRaw } from './ops/raw/elementwise.ts';
export { sumRaw, sumToRaw } from './ops/raw/reduce.ts';
export { permuteRaw, broadcastToRaw, sliceRaw } from './ops/raw/layout.ts';
