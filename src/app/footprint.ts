// What a training config costs before it runs: parameters, FLOPs per step and memory, counted
// from the U-Net's shape plan without a GPU, and whether the adapter's limits allow it.

import { preset, type UNetConfig } from '../model/config.ts';
import { UNet } from '../model/unet.ts';
import type { DeviceReport } from './engine.ts';

export interface TrainingFootprint {
  parameters: number;
  /** Forward + backward of one step: about 3x the forward pass. */
  flopsPerStep: number;
  /** Weights, gradients, Adam's two moments and the EMA copy: 5 x the parameters, f32. */
  stateBytes: number;
  /** Layer outputs kept for the backward pass. */
  activationBytes: number;
  /** The largest single layer output (one GPU buffer binding). */
  largestTensorBytes: number;
}

export function trainingFootprint(model: UNetConfig, batch: number): TrainingFootprint {
  const net = new UNet(model);
  const plan = net.plan(batch);
  const parameters = net.parameterCount();
  const largest = Math.max(0, ...plan.rows.map((r) => r.outShape.reduce((a, b) => a * b, 1)));
  return {
    parameters,
    flopsPerStep: 3 * plan.totalFlops,
    stateBytes: 5 * 4 * parameters,
    activationBytes: 4 * plan.activationElements,
    largestTensorBytes: 4 * largest,
  };
}

/** The footprint of a model preset (by name) at `batch`. */
export function presetFootprint(name: string, batch: number): TrainingFootprint {
  return trainingFootprint(preset(name), batch);
}

/** Why the adapter cannot train this footprint, or null when it can. */
export function footprintRefusal(f: TrainingFootprint, report: DeviceReport): string | null {
  const binding = report.limits.maxStorageBufferBindingSize;
  const buffer = report.limits.maxBufferSize;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  if (binding !== undefined && f.largestTensorBytes > binding) {
    return `its largest activation (${mib(f.largestTensorBytes)}) exceeds this adapter's maxStorageBufferBindingSize (${mib(binding)}): use a smaller batch or model`;
  }
  if (buffer !== undefined && f.largestTensorBytes > buffer) {
    return `its largest activation (${mib(f.largestTensorBytes)}) exceeds this adapter's maxBufferSize (${mib(buffer)}): use a smaller batch or model`;
  }
  return null;
}
