// Check cases for batched matmul (src/engine/ops/matmul.ts).

import { matmul } from '../ops/matmul.ts';
import { refMatmul, refMatmulVjp } from '../reference/matmul.ts';
import type { KernelTuning } from '../tuning.ts';
import { withHalfCases, type CheckCase, type OpCheck } from './runner.ts';

/** The tiled kernel, whatever the adapter. */
const TILED: Partial<KernelTuning> = { matmulTiled: true };
/** Enough target workgroups that a K of 512 or more splits. */
const SPLIT_K: Partial<KernelTuning> = { matmulTargetWorkgroups: 64 };
/** A target of one workgroup and no cap for small work: the block kernels take the largest block each size allows. */
const LARGEST_BLOCKS: Partial<KernelTuning> = { matmulBlockTargetWorkgroups: 1, matmulLargeBlockMinFlops: 0 };
/** More workgroups than any case fills: the block kernels shrink to 4 rows × 4 columns. */
const SMALLEST_BLOCKS: Partial<KernelTuning> = { matmulBlockTargetWorkgroups: 1 << 20 };

/** Sizes off every tile (1, 7, 33, 130), the vec4 path (each block size), transposes (read through strides) and batch broadcasting. */
const MATMUL_CASES: { a: number[]; b: number[]; ta?: boolean; tb?: boolean; tuning?: Partial<KernelTuning> }[] = [
  { a: [1, 1], b: [1, 1] },
  { a: [7, 33], b: [33, 130] },
  { a: [130, 7], b: [7, 1] },
  { a: [33, 64], b: [64, 36] },
  { a: [2, 7, 12], b: [12, 8] },
  { a: [33, 7], b: [33, 5], ta: true },
  { a: [7, 33], b: [130, 33], tb: true },
  { a: [2, 12, 7], b: [2, 5, 12], ta: true, tb: true },
  { a: [3, 1, 5, 8], b: [2, 8, 4] },
  // Transposes with K, N multiples of 4: the block kernel reading them through their strides.
  { a: [32, 9], b: [32, 20], ta: true },
  { a: [9, 32], b: [20, 32], tb: true },
  { a: [2, 32, 9], b: [2, 20, 32], ta: true, tb: true },
  // Split-K (a long K over few workgroups) in the general and vec4 kernels.
  { a: [600, 5], b: [600, 9], ta: true, tuning: SPLIT_K },
  { a: [6, 520], b: [520, 8], tuning: SPLIT_K },
  // The vec4 kernel's blocks of 32 × 16, 16 × 16, 8 × 8 and 4 × 4 per invocation, each with partial edges.
  { a: [260, 8], b: [8, 132], tuning: LARGEST_BLOCKS },
  { a: [130, 36], b: [36, 132], tuning: LARGEST_BLOCKS },
  { a: [70, 20], b: [20, 68], tuning: LARGEST_BLOCKS },
  { a: [2, 33, 16], b: [16, 40], tuning: LARGEST_BLOCKS },
  { a: [36, 130], b: [132, 36], ta: true, tb: true, tuning: LARGEST_BLOCKS },
  { a: [2, 20, 70], b: [20, 68], ta: true, tuning: LARGEST_BLOCKS },
  { a: [70, 20], b: [20, 68], tuning: SMALLEST_BLOCKS },
  { a: [36, 33], b: [36, 20], ta: true, tuning: SMALLEST_BLOCKS },
  // A real GPU's workgroup-memory kernel: edges of its 64x64 blocks and 16-deep K slabs,
  // transposes read by its loaders, batch broadcasting, and split-K.
  { a: [7, 33], b: [33, 130], tuning: TILED },
  { a: [70, 40], b: [40, 66], tuning: TILED },
  { a: [33, 7], b: [33, 5], ta: true, tuning: TILED },
  { a: [7, 33], b: [130, 33], tb: true, tuning: TILED },
  { a: [2, 12, 7], b: [2, 5, 12], ta: true, tb: true, tuning: TILED },
  { a: [3, 1, 5, 8], b: [2, 8, 4], tuning: TILED },
  { a: [520, 6], b: [520, 10], ta: true, tuning: { ...TILED, ...SPLIT_K } },
];

const tuningLabel = (t: Partial<KernelTuning> | undefined): string =>
  t
    ? ` (${[
        t.matmulTiled ? 'tiled' : '',
        t.matmulTargetWorkgroups ? 'split-K' : '',
        t.matmulBlockTargetWorkgroups === 1 ? 'largest blocks' : t.matmulBlockTargetWorkgroups ? 'smallest blocks' : '',
      ]
        .filter(Boolean)
        .join(', ')})`
    : '';

const cases: CheckCase[] = MATMUL_CASES.map(({ a, b, ta = false, tb = false, tuning }) => ({
  name: `[${a}]${ta ? 'ᵀ' : ''}·[${b}]${tb ? 'ᵀ' : ''}${tuningLabel(tuning)}`,
  ...(tuning ? { tuning } : {}),
  inputs: [
    { name: 'a', shape: a },
    { name: 'b', shape: b },
  ],
  gpu: ([x, y]) => matmul(x!, y!, { transposeA: ta, transposeB: tb }),
  ref: ([x, y]) => refMatmul(x!, y!, ta, tb),
  vjp: ([x, y], gy) => refMatmulVjp(x!, y!, gy, ta, tb),
}));

// f16 matmul sums K in one slice: a split-K case's f16 form would repeat an unsplit one.
export const matmulChecks: OpCheck[] = [withHalfCases({ op: 'matmul', cases }, (c) => !c.name.includes('split-K'))];
