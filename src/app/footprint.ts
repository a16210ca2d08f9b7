// What a training config costs before it runs: parameters, FLOPs per step and memory, counted
// from the U-Net's shape plan without a GPU, and whether the adapter's limits allow it.

import { preset, type UNetConfig } from '../model/config.ts';
import { microBatches, samplesWithin } from '../model/micro-batches.ts';
import { UNet } from '../model/unet.ts';
import { deviceBindingLimit } from '../engine/index.ts';
import type { DeviceReport } from './engine.ts';

export interface TrainingFootprint {
  parameters: number;
  /** Forward + backward of one step: about 3x the forward pass. */
  flopsPerStep: number;
  /** Weights, gradients, Adam's two moments and the EMA copy: 5 x the parameters, f32. */
  stateBytes: number;
  /** Layer outputs kept for the backward pass. */
  activationBytes: number;
  /** The largest single tensor of the step (a layer output or attention's scores: one GPU buffer binding). */
  largestTensorBytes: number;
  /** The batch the footprint was counted at. */
  batch: number;
}

export function trainingFootprint(model: UNetConfig, batch: number): TrainingFootprint {
  const net = new UNet(model);
  const plan = net.plan(batch);
  const parameters = net.parameterCount();
  const largest = plan.largestElements;
  return {
    parameters,
    flopsPerStep: 3 * plan.totalFlops,
    stateBytes: 5 * 4 * parameters,
    activationBytes: 4 * plan.activationElements,
    largestTensorBytes: 4 * largest,
    batch,
  };
}

/** The footprint of a model preset (by name) at `batch`. */
export function presetFootprint(name: string, batch: number): TrainingFootprint {
  return trainingFootprint(preset(name), batch);
}

/**
 * Micro-batches a training step runs in on this adapter: the batch is split until its largest
 * tensor fits one storage binding (src/model/train/trainer.ts); 1 when it fits whole.
 */
export function footprintMicroBatches(f: TrainingFootprint, report: DeviceReport): number {
  const fit = samplesWithin(perSampleBytes(f), f.batch, deviceBindingLimit(report));
  return fit >= 1 ? microBatches(f.batch, fit).length : Infinity;
}

/** Bytes of the largest tensor per sample (the largest tensor grows with the batch). */
const perSampleBytes = (f: TrainingFootprint): number => f.largestTensorBytes / Math.max(1, f.batch);

/** Why the adapter cannot train this footprint (not even one sample at a time), or null when it can. */
export function footprintRefusal(f: TrainingFootprint, report: DeviceReport): string | null {
  const perSample = perSampleBytes(f);
  const limit = deviceBindingLimit(report);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  if (samplesWithin(perSample, f.batch, limit) < 1) {
    return `one sample's largest tensor (${mib(perSample)}) exceeds this adapter's storage-binding limit (${mib(limit)}): use a smaller model or image size`;
  }
  return null;
}
