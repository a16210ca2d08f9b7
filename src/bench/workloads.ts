// Every workload `ddpm bench` runs, in order: the core-op micro-benchmarks, the layer
// micro-benchmarks, then the U-Net (bench/WORKLOADS.md names them all).

import { LAYER_WORKLOADS } from './layer-workloads.ts';
import { MICRO_WORKLOADS } from './micro.ts';
import { UNET_WORKLOADS } from './unet-workloads.ts';
import type { Workload } from './workload.ts';

export const BENCH_WORKLOADS: Workload[] = [...MICRO_WORKLOADS, ...LAYER_WORKLOADS, ...UNET_WORKLOADS];
