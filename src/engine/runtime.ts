// The engine's one live context: device, buffer pool, dispatcher, and device-lost state.

import { ADAPTER_CLASSES, deviceBindingLimit, featuresTurnedOn, kernelTuning, type AdapterClass, type KernelTuning } from './tuning.ts';
import { BufferPool } from './buffer-pool.ts';
import { describeDevice, requestGpuDevice, type DeviceReport } from './device.ts';
import { Dispatcher } from './dispatch.ts';
import { supportsF16 } from './dtype.ts';

export interface DeviceLostDetail {
  reason: string;
  message: string;
}

export class DeviceLostError extends Error {
  constructor(readonly detail: DeviceLostDetail) {
    super(
      `the GPU device was lost (${detail.reason}: ${detail.message || 'no message'}); ` +
        `call initEngine() again and resume from the last checkpoint`,
    );
    this.name = 'DeviceLostError';
  }
}

export class Runtime extends EventTarget {
  readonly pool: BufferPool;
  readonly dispatcher: Dispatcher;
  private chosenTuning: KernelTuning;
  lost: DeviceLostDetail | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly report: DeviceReport,
  ) {
    super();
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.dispatcher = new Dispatcher(device, this.pool);
    this.chosenTuning = kernelTuning(report);
    void device.lost.then((info) => {
      this.lost = { reason: String(info.reason), message: info.message };
      // Surfaced as an event; never swallowed: every later op throws DeviceLostError too.
      this.dispatchEvent(new CustomEvent<DeviceLostDetail>('devicelost', { detail: this.lost }));
    });
    device.addEventListener('uncapturederror', (ev) => {
      const error = (ev as GPUUncapturedErrorEvent).error;
      this.dispatchEvent(new CustomEvent('gpuerror', { detail: { message: error.message } }));
    });
  }

  /** Kernel shapes chosen for this adapter. */
  get tuning(): KernelTuning {
    return this.chosenTuning;
  }

  /**
   * Replaces some kernel choices for the rest of this runtime's life (A/B runs on a lent GPU:
   * the CLI's DDPM_TUNING); a key the tuning does not have is refused. `shapesFor` first takes
   * every choice as made for that class of adapter ('gpu' on a CPU adapter: a GPU's kernels).
   */
  setTuning(overrides: Partial<KernelTuning> & { shapesFor?: AdapterClass }): void {
    const { shapesFor, ...fields } = overrides;
    if (shapesFor !== undefined && !ADAPTER_CLASSES.includes(shapesFor)) {
      throw new Error(`shapesFor must be one of ${ADAPTER_CLASSES.join(', ')}, got ${JSON.stringify(shapesFor)}`);
    }
    const base = shapesFor === undefined ? this.chosenTuning : kernelTuning(this.report, shapesFor);
    const unknown = Object.keys(fields).filter((k) => !(k in base));
    if (unknown.length > 0) {
      throw new Error(`unknown kernel tuning field(s) ${unknown.join(', ')}: use ${Object.keys(base).join(', ')} (or shapesFor: ${ADAPTER_CLASSES.join(', ')})`);
    }
    this.checkOverrides(fields);
    this.chosenTuning = { ...base, ...fields };
  }

  /** The device features that `overrides` turn on and this device lacks (none: it can run them). */
  missingFeatures(overrides: Partial<KernelTuning>): string[] {
    return featuresTurnedOn(overrides).filter((feature) => !this.report.features.includes(feature));
  }

  /** Refuses overrides this device cannot run: a missing feature, a binding limit above its own. */
  private checkOverrides(overrides: Partial<KernelTuning>): void {
    const missing = this.missingFeatures(overrides);
    if (missing.length > 0) throw new Error(`kernel tuning needs the device feature(s) ${missing.join(', ')}, which this adapter lacks`);
    const bytes = overrides.maxBindingBytes;
    const limit = deviceBindingLimit(this.report);
    if (bytes !== undefined && !(Number.isInteger(bytes) && bytes >= 4 && bytes <= limit)) {
      throw new Error(`maxBindingBytes must be an integer in [4, ${limit}] (this device's limit), got ${bytes}`);
    }
  }

  /** Whether the device runs f16 kernels ('shader-f16'). */
  get hasF16(): boolean {
    return supportsF16(this.report.features);
  }

  /** Bytes one tensor binding may span (the device's limit, or a lower one from the tuning). */
  get bindingLimitBytes(): number {
    return this.chosenTuning.maxBindingBytes;
  }

  /**
   * Runs `fn` with some kernel choices overridden, then restores them; what `fn` encodes
   * synchronously uses the overrides (checks run a real GPU's kernels on a software adapter).
   */
  withTuning<T>(overrides: Partial<KernelTuning>, fn: () => T): T {
    this.checkOverrides(overrides);
    const saved = this.chosenTuning;
    this.chosenTuning = { ...saved, ...overrides };
    try {
      return fn();
    } finally {
      this.chosenTuning = saved;
    }
  }

  assertAlive(): void {
    if (this.lost) throw new DeviceLostError(this.lost);
  }
}

let current: Runtime | null = null;

/**
 * Initialises the engine on `device` (any GPUDevice, e.g. from Node's `webgpu` package), or
 * acquires one from `navigator.gpu`. Replaces a previous runtime.
 */
export async function initEngine(device?: GPUDevice, adapter?: GPUAdapter | null): Promise<Runtime> {
  if (device) {
    current = new Runtime(device, describeDevice(device, adapter ?? null));
  } else {
    const acquired = await requestGpuDevice();
    current = new Runtime(acquired.device, acquired.report);
  }
  return current;
}

/** Makes `rt` the current runtime (e.g. to return to a device after trying another). */
export function useRuntime(rt: Runtime): void {
  current = rt;
}

/** The current runtime, whether or not its device was lost. */
export function currentRuntime(): Runtime | null {
  return current;
}

export function runtime(): Runtime {
  if (!current) throw new Error('the engine is not initialised: call `await initEngine()` first');
  current.assertAlive();
  return current;
}

export function hasRuntime(): boolean {
  return current !== null;
}

/** Submits all encoded work. */
export function flush(): void {
  runtime().dispatcher.flush();
}
