// Check cases for fused attention (src/engine/ops/attention.ts).

import { attention } from '../ops/attention.ts';
import { refAttention, refAttentionVjp } from '../reference/attention.ts';
import type { CheckCase, Distribution, OpCheck } from './runner.ts';

interface AttentionCase {
  q: number[];
  /** k and v share this shape. */
  k: number[];
  scale?: number;
  dist?: Distribution;
}

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
];

const cases: CheckCase[] = ATTENTION_CASES.map(({ q, k, scale, dist }) => {
  const s = scale ?? 1 / Math.sqrt(q[q.length - 1]!);
  return {
    name: `q[${q}] kv[${k}]${scale === undefined ? '' : ` scale ${scale}`}${dist ? ' sharp' : ''}`,
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

export const attentionChecks: OpCheck[] = [{ op: 'attention', cases }];
