// Adapter and device acquisition (browser, or any GPUDevice handed in), and what they offer.

export interface DeviceReport {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
  /** The adapter's subgroup sizes [min, max] where it reports them (with the 'subgroups' feature). */
  subgroupSizes: [number, number] | null;
  /**
   * Logical CPUs the host reports (navigator.hardwareConcurrency), null where it reports none: a
   * software adapter (SwiftShader) runs one workgroup per CPU thread at a time.
   */
  cpuThreads: number | null;
}

export class WebGpuUnavailableError extends Error {
  constructor(detail: string) {
    super(
      `WebGPU is not available: ${detail}. Use a browser with WebGPU (Chrome/Edge 113+, Safari 26+, ` +
        `Firefox 141+ on Windows), served from https:// or http://localhost; headless Chromium needs ` +
        `--enable-unsafe-webgpu.`,
    );
    this.name = 'WebGpuUnavailableError';
  }
}

/** Limits we ask for up to the adapter's maximum: big tensors and many bindings. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

// shader-f16: sampling stores weights and activations in f16 where the adapter has it.
const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups' as GPUFeatureName, 'shader-f16'];

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter | null;
  report: DeviceReport;
}

/** Requests an adapter and a device with generous limits, in a page that has `navigator.gpu`. */
export async function requestGpuDevice(
  options: { powerPreference?: GPUPowerPreference; gpu?: GPU } = {},
): Promise<AcquiredDevice> {
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new WebGpuUnavailableError('navigator.gpu is undefined (not a secure context, or no WebGPU)');
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new WebGpuUnavailableError('requestAdapter() returned null (no usable GPU adapter)');
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return { device, adapter, report: describeDevice(device, adapter) };
}

export function describeDevice(device: GPUDevice, adapter: GPUAdapter | null): DeviceReport {
  const info = (adapter?.info ?? (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo) as
    | (GPUAdapterInfo & { isFallbackAdapter?: boolean })
    | undefined;
  const limits: Record<string, number> = {};
  for (const key in device.limits) {
    const v = (device.limits as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') limits[key] = v;
  }
  return {
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
    },
    isFallbackAdapter: Boolean(
      info?.isFallbackAdapter ?? (adapter as unknown as { isFallbackAdapter?: boolean } | null)?.isFallbackAdapter,
    ),
    features: [...device.features].map(String).sort(),
    limits,
    subgroupSizes: subgroupSizesOf(info),
    cpuThreads: hostCpuThreads(),
  };
}

function hostCpuThreads(): number | null {
  const threads = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  return typeof threads === 'number' && threads > 0 ? threads : null;
}

function subgroupSizesOf(info: unknown): [number, number] | null {
  const sizes = info as { subgroupMinSize?: unknown; subgroupMaxSize?: unknown } | undefined;
  const min = sizes?.subgroupMinSize;
  const max = sizes?.subgroupMaxSize;
  return typeof min === 'number' && typeof max === 'number' && min > 0 ? [min, max] : null;
}
