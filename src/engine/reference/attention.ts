// Float64 reference for attention: softmax(q kᵀ · scale) v over the last two axes, with the
// full probability matrix (plain and obviously right, not fused).

import { refArray, type Ref } from './ndarray.ts';

interface Dims {
  heads: number;
  tq: number;
  tk: number;
  d: number;
}

function dims(q: Ref, k: Ref): Dims {
  const [tq, d] = q.shape.slice(-2) as [number, number];
  const tk = k.shape[k.shape.length - 2]!;
  return { heads: q.data.length / (tq * d || 1), tq, tk, d };
}

/** Row-softmax probabilities P [heads, tq, tk]. */
function probabilities(q: Ref, k: Ref, scale: number, { heads, tq, tk, d }: Dims): Float64Array {
  const p = new Float64Array(heads * tq * tk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tq; i++) {
      const row = (h * tq + i) * tk;
      let max = -Infinity;
      for (let j = 0; j < tk; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q.data[(h * tq + i) * d + c]! * k.data[(h * tk + j) * d + c]!;
        p[row + j] = s * scale;
        max = Math.max(max, p[row + j]!);
      }
      let sum = 0;
      for (let j = 0; j < tk; j++) sum += p[row + j] = Math.exp(p[row + j]! - max);
      for (let j = 0; j < tk; j++) p[row + j] /= sum;
    }
  }
  return p;
}

export function refAttention(q: Ref, k: Ref, v: Ref, scale: number): Ref {
  const n = dims(q, k);
  const { heads, tq, tk, d } = n;
  const p = probabilities(q, k, scale, n);
  const out = refArray(q.shape);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tq; i++) {
      for (let j = 0; j < tk; j++) {
        const pij = p[(h * tq + i) * tk + j]!;
        for (let c = 0; c < d; c++) out.data[(h * tq + i) * d + c] += pij * v.data[(h * tk + j) * d + c]!;
      }
    }
  }
  return out;
}

/** [dq, dk, dv] of Σ attention(q, k, v)·gy. */
export function refAttentionVjp(q: Ref, k: Ref, v: Ref, gy: Ref, scale: number): [Ref, Ref, Ref] {
  const n = dims(q, k);
  const { heads, tq, tk, d } = n;
  const p = probabilities(q, k, scale, n);
  const dq = refArray(q.shape);
  const dk = refArray(k.shape);
  const dv = refArray(v.shape);
  const dp = new Float64Array(tk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tq; i++) {
      const qi = (h * tq + i) * d;
      // dP_ij = gy_i·v_j, dS_ij = P_ij (dP_ij − Σ_l P_il dP_il)
      let rowDot = 0;
      for (let j = 0; j < tk; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += gy.data[qi + c]! * v.data[(h * tk + j) * d + c]!;
        dp[j] = s;
        rowDot += p[(h * tq + i) * tk + j]! * s;
      }
      for (let j = 0; j < tk; j++) {
        const kj = (h * tk + j) * d;
        const pij = p[(h * tq + i) * tk + j]!;
        const ds = pij * (dp[j]! - rowDot) * scale;
        for (let c = 0; c < d; c++) {
          dv.data[kj + c] += pij * gy.data[qi + c]!;
          dq.data[qi + c] += ds * k.data[kj + c]!;
          dk.data[kj + c] += ds * q.data[qi + c]!;
        }
      }
    }
  }
  return [dq, dk, dv];
}
