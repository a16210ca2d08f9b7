// Check cases for fused attention (src/engine/ops/attention.ts).

import { attention } from '../ops/attention.ts';
import { refAttention, refAttentionVjp } from '../reference/attention.ts';
import type { KernelTuning } from '../tuning.ts';
import { withHalfCases, type CheckCase, type Distribution, type OpCheck } from './runner.ts';

interface AttentionCase {
  q: number[];
  /** k and v share this shape. */
  k: number[];
  scale?: number;
  dist?: Distribution;
  /** Which path: the fused register kernels (default), the fused workgroup-tile kernels, or the scores materialised. */
  path?: 'tiled' | 'materialised';
}

const PATHS: Record<'fused' | 'tiled' | 'materialised', Partial<KernelTuning>> = {
  fused: { attentionMaterialiseMaxKeys: 0, attentionTiled: false },
  tiled: { attentionMaterialiseMaxKeys: 0, attentionTiled: true },
  materialised: { attentionMaterialiseMaxKeys: 1024, attentionMaterialiseMinKeys: 0 },
};

/**
 * Token counts 1, 7, 33, 64, 256 and 300 (past one workgroup's 256 query or key rows), Tq ≠ Tk,
 * head dims 4, 8, 16, 64, 5, 126 (padded to 8 and 128 inside the op) and 256 (the maximum), one and
 * two heads, a rank-3 layout, and sharp logits (std ≈ 8) for the online softmax's running max.
 * Sizes stay small enough for the finite-difference check of the reference to take seconds.
 */
const ATTENTION_CASES: AttentionCase[] = [
  { q: [1, 1, 1, 4], k: [1, 1, 1, 4] },
  { q: [2, 2, 7, 8], k: [2, 2, 33, 8] },
  { q: [1, 2, 33, 4], k: [1, 2, 7, 4] },
  { q: [2, 1, 64, 64], k: [2, 1, 64, 64] },
  { q: [1, 1, 256, 16], k: [1, 1, 256, 16] },
  { q: [1, 2, 300, 4], k: [1, 2, 17, 4] },
  { q: [1, 1, 9, 4], k: [1, 1, 300, 4] },
  { q: [2, 2, 7, 5], k: [2, 2, 9, 5] },
  { q: [1, 1, 5, 126], k: [1, 1, 6, 126] },
  { q: [1, 1, 3, 256], k: [1, 1, 5, 256] },
  { q: [3, 7, 8], k: [3, 33, 8] },
  { q: [1, 2, 33, 4], k: [1, 2, 64, 4], scale: 1, dist: { scale: 2, offset: 0 } },
  // The materialised path: Tq ≠ Tk, head dims off 4, rank 3, sharp logits.
  { q: [2, 2, 7, 8], k: [2, 2, 33, 8], path: 'materialised' },
  { q: [2, 2, 7, 5], k: [2, 2, 9, 5], path: 'materialised' },
  { q: [3, 7, 8], k: [3, 33, 8], path: 'materialised' },
  { q: [1, 2, 33, 4], k: [1, 2, 64, 4], scale: 1, dist: { scale: 2, offset: 0 }, path: 'materialised' },
  // A real GPU's tile kernels: rows past one workgroup (64) and one tile (32 keys at d 64,
  // 8 at d 256), Tq ≠ Tk both ways, padded head dims, sharp logits.
  { q: [2, 2, 7, 8], k: [2, 2, 33, 8], path: 'tiled' },
  { q: [1, 2, 70, 4], k: [1, 2, 17, 4], path: 'tiled' },
  { q: [1, 1, 9, 64], k: [1, 1, 70, 64], path: 'tiled' },
  { q: [2, 2, 7, 5], k: [2, 2, 9, 5], path: 'tiled' },
  { q: [1, 1, 3, 256], k: [1, 1, 11, 256], path: 'tiled' },
  { q: [1, 2, 33, 4], k: [1, 2, 64, 4], scale: 1, dist: { scale: 2, offset: 0 }, path: 'tiled' },
];

const cases: CheckCase[] = ATTENTION_CASES.map(({ q, k, scale, dist, path }) => {
  const s = scale ?? 1 / Math.sqrt(q[q.length - 1]!);
  return {
    name: `q[${q}] kv[${k}]${scale === undefined ? '' : ` scale ${scale}`}${dist ? ' sharp' : ''}${path ? ` ${path}` : ''}`,
    tuning: PATHS[path ?? 'fused'],
    inputs: [
      { name: 'q', shape: q, ...(dist ? { dist } : {}) },
      { name: 'k', shape: k, ...(dist ? { dist } : {}) },
      { name: 'v', shape: k },
    ],
    gpu: ([x, y, z]) => attention(x!, y!, z!, scale === undefined ? {} : { scale }),
    ref: ([x, y, z]) => refAttention(x!, y!, z!, s),
    vjp: ([x, y, z], gy) => refAttentionVjp(x!, y!, z!, gy, s),
  };
});

// f16 attention always runs fused: the materialised cases' f16 forms would repeat fused ones.
export const attentionChecks: OpCheck[] = [withHalfCases({ op: 'attention', cases }, (c) => !c.name.endsWith(' materialised'))];
