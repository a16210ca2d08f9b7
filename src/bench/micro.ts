// The micro-benchmarks of bench/WORKLOADS.md that the core ops cover: matmul, and
// bandwidth-bound elementwise and reduction kernels at 4M elements.
// Rep counts keep the whole bench at about 2 minutes on a loaded 2-core SwiftShader machine.

import { add, matmul, silu, sum, type Tensor } from '../engine/index.ts';
import { defineWorkload, randn, type Workload } from './workload.ts';

const FLOAT_BYTES = 4;
/** 4M = 2^22 elements (16 MiB of f32) per tensor in the bandwidth benchmarks. */
const BANDWIDTH_ELEMENTS = 4 * 1024 * 1024;

function matmulWorkload(n: number, warmupReps: number, timedReps: number): Workload {
  return defineWorkload({
    name: `matmul_${n}`,
    description: `C = A·B, A,B [${n},${n}] ~ N(0,1)`,
    flops: 2 * n * n * n,
    warmupReps,
    timedReps,
    setup: () => ({ a: randn([n, n], 1001), b: randn([n, n], 1002) }),
    run: ({ a, b }) => matmul(a, b),
    teardown: ({ a, b }) => {
      a.dispose();
      b.dispose();
    },
  });
}

const disposeAll = (ts: Tensor[]): void => ts.forEach((t) => t.dispose());

const N = BANDWIDTH_ELEMENTS;

export const MICRO_WORKLOADS: Workload[] = [
  matmulWorkload(256, 3, 10),
  matmulWorkload(1024, 2, 3),
  defineWorkload({
    name: 'add_4m',
    description: `c = a + b, a,b [${N}] ~ N(0,1)`,
    bytes: 3 * N * FLOAT_BYTES,
    warmupReps: 2,
    timedReps: 10,
    setup: () => [randn([N], 2001), randn([N], 2002)],
    run: ([a, b]) => add(a!, b!),
    teardown: disposeAll,
  }),
  defineWorkload({
    name: 'silu_4m',
    description: `y = silu(x) = x·sigmoid(x), x [${N}] ~ N(0,1)`,
    bytes: 2 * N * FLOAT_BYTES,
    warmupReps: 2,
    timedReps: 10,
    setup: () => randn([N], 3001),
    run: (x) => silu(x),
    teardown: (x) => x.dispose(),
  }),
  defineWorkload({
    name: 'sum_4m',
    description: `s = sum(x) over all elements, x [${N}] ~ N(0,1)`,
    bytes: (N + 1) * FLOAT_BYTES,
    warmupReps: 2,
    timedReps: 10,
    setup: () => randn([N], 4001),
    run: (x) => sum(x),
    teardown: (x) => x.dispose(),
  }),
];
