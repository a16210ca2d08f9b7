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
export { readSafetensors, writeSafetensors, SafetensorsError } from './safetensors.ts';
export { requestGpuDevice, describeDevice, WebGpuUnavailableError, type DeviceReport } from './device.ts';
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
export { backward, noGrad, detach, zeroGrad, isGradEnabled } from './autograd.ts';
export { Rng } from './random.ts';
export * from './ops/index.ts';
