// The engine's public API.

export {
  initEngine,
  runtime,
  useRuntime,
  currentRuntime,
  flush,
  hasRuntime,
  DeviceLostError,
  Runtime,
} from './runtime.ts';
export { readSafetensors, writeSafetensors, toFloat32, SafetensorsError, type SafetensorsEntry, type SafetensorsDtype } from './safetensors.ts';
export { requestGpuDevice, describeDevice, WebGpuUnavailableError, type DeviceReport } from './device.ts';
export { deviceBindingLimit, isSoftwareAdapter, type KernelTuning } from './tuning.ts';
export {
  Tensor,
  tensor,
  zeros,
  full,
  scope,
  untrack,
  leakReport,
  liveTensorCount,
  liveTensorBytes,
  type LiveTensorInfo,
} from './tensor.ts';
export { noGrad, detach, isGradEnabled } from './tape.ts';
export { DTYPES, roundToHalf, SHADER_F16, type DType } from './dtype.ts';
export { backward, zeroGrad } from './backward.ts';
export { Rng, deriveSeed, type RngState, type SeedPart } from './random.ts';
export * from './ops/index.ts';
export { ParameterArena } from './arena.ts';
export { CapturedRun } from './replay.ts';
export { Live, live, valueOf, mapScalar, type Scalar } from './live.ts';
export { fmt, sizeOf, sameShape, broadcastShapes, conv2dOutputShape, convOutputSize, type Shape } from './shape.ts';
export type { DeviceLostDetail } from './runtime.ts';
export type { PendingPassTimings, PassTimings, DispatchCounters } from './dispatch.ts';
