// Every workload `ddpm bench` runs, in order. Add a workload by appending one entry
// (e.g. conv3x3_fwd from a src/bench/conv.ts next to micro.ts).

import { MICRO_WORKLOADS } from './micro.ts';
import type { Workload } from './workload.ts';

export const BENCH_WORKLOADS: Workload[] = [...MICRO_WORKLOADS];
