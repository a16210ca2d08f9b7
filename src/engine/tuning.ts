// Kernel shapes that depend on the adapter, chosen once from what it reports (never guessed per
// call). A software adapter (SwiftShader: CPU threads running SIMD lanes) and a real GPU want
// different shapes where workgroup memory is involved: on a CPU it is just more memory traffic.

import type { DeviceReport } from './device.ts';

export interface KernelTuning {
  /**
   * conv2d with more output channels than this uses the workgroup-memory (tiled) kernel; at or
   * below, the direct kernel. Measured on SwiftShader (fashion-16, batch 32, one training step):
   * the conv kernels took 1078 ms at 16, 950 ms at 32, 1034 ms at 64, 1485 ms at 8.
   */
  convTiledMinChannels: number;
  /**
   * Pixels per thread the conv row kernel may take, first fitting first (stride-1 launches whose
   * output rows split into whole runs of that many); empty: never the row kernel.
   */
  convRowPixels: number[];
  /** Whether small-output launches (weight gradients of stride-1 convs) use the window kernel. */
  convWindow: boolean;
}

/** Whether the adapter is a CPU implementation of WebGPU (SwiftShader or another fallback). */
export function isSoftwareAdapter(report: DeviceReport): boolean {
  return report.isFallbackAdapter || report.adapter.architecture === 'swiftshader';
}

export function kernelTuning(report: DeviceReport): KernelTuning {
  const software = isSoftwareAdapter(report);
  return {
    // On a GPU, workgroup-memory tiles pay off as soon as a 32-row tile is mostly filled.
    convTiledMinChannels: software ? 32 : 16,
    convRowPixels: [16, 8],
    convWindow: true,
  };
}
