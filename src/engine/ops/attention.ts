// attention(q, k, v): softmax(q kᵀ · scale) v over the last two axes. Two paths, chosen per
// adapter and size (src/engine/tuning.ts):
//   - fused (flash-attention style: no Tq×Tk matrix is stored), with a backward that recomputes
//     the probabilities from the saved per-row logsumexp: register blocks on a software adapter
//     (src/shaders/attention.ts), workgroup-memory tiles on a GPU (src/shaders/attention-tiled.ts);
//   - materialised, for short key sequences: the scores through the matmul kernels, a row
//     softmax and a second matmul, each with its own backward; it trades Tq×Tk floats of memory
//     for the matmul kernels' speed.
// Reference: src/engine/reference/attention.ts. Checks: src/engine/checks/attention.ts.

import {
  ATTENTION_BLOCK_ROWS,
  ATTENTION_MAX_HEAD_DIM,
  attentionForwardKernel,
  attentionKeyValueGradKernel,
  attentionQueryGradKernel,
} from '../../shaders/attention.ts';
import {
  ATTENTION_TILED_ROWS,
  attentionTiledForwardKernel,
  attentionTiledKeyValueGradKernel,
  attentionTiledQueryGradKernel,
} from '../../shaders/attention-tiled.ts';
import { foldedGrid } from '../../shaders/common.ts';
import { record } from '../tape.ts';
import { fmt, sizeOf } from '../shape.ts';
import { assertSameDtype, assertTensor, emptyTensor, zeros, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';
import { concat, slice } from './layout.ts';
import { mulScalar } from './elementwise.ts';
import { matmul } from './matmul.ts';
import { softmax } from './softmax.ts';
import { runtime } from '../runtime.ts';

/** The materialised path's scores may take at most this many bytes. */
const MATERIALISED_MAX_BYTES = 64 * 2 ** 20;

export interface AttentionOptions {
  /** Multiplies q kᵀ before the softmax; 1/sqrt(head dim) by default. */
  scale?: number;
}

interface AttentionPlan {
  /** Leading (batch, head, …) axes, shared by q, k and v. */
  lead: number[];
  tq: number;
  tk: number;
  d: number;
}

function plan(q: Tensor, k: Tensor, v: Tensor): AttentionPlan {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.rank < 2) throw new Error(`attention: ${name} ${fmt(t.shape)} needs shape [..., tokens, headDim]`);
  }
  const lead = q.shape.slice(0, -2);
  const sameLead = (t: Tensor) => t.rank === q.rank && lead.every((n, i) => t.shape[i] === n);
  if (!sameLead(k)) throw new Error(`attention: k ${fmt(k.shape)} and q ${fmt(q.shape)} differ in their leading (batch, head) axes`);
  if (!v.shape.every((n, i) => n === k.shape[i])) {
    throw new Error(`attention: v ${fmt(v.shape)} must have the shape of k ${fmt(k.shape)}`);
  }
  const [tq, d] = q.shape.slice(-2) as [number, number];
  const [tk, dk] = k.shape.slice(-2) as [number, number];
  if (dk !== d) throw new Error(`attention: q ${fmt(q.shape)} has head dim ${d} but k ${fmt(k.shape)} has ${dk}`);
  if (tk === 0 && tq > 0) throw new Error(`attention: k ${fmt(k.shape)} has no keys to attend to`);
  if (d > ATTENTION_MAX_HEAD_DIM) {
    throw new Error(
      `attention: head dim ${d} (q ${fmt(q.shape)}) exceeds the fused kernel's maximum of ${ATTENTION_MAX_HEAD_DIM}; split the channels into more heads`,
    );
  }
  return { lead, tq, tk, d };
}

/** Zero columns appended to the last axis up to a multiple of 4 (the kernels' vec4 rows). */
function padHeadDim(x: Tensor, d4: number): Tensor {
  const d = x.shape[x.rank - 1]!;
  if (d === d4 * 4) return x;
  return concat([x, zeros([...x.shape.slice(0, -1), d4 * 4 - d], { dtype: x.dtype })], -1);
}

/** The fused op on head dims that are multiples of 4. */
function attentionFused(q: Tensor, k: Tensor, v: Tensor, { lead, tq, tk, d }: AttentionPlan, scale: number): Tensor {
  const heads = sizeOf(lead);
  const out = emptyTensor(q.shape, 'attention', q.dtype);
  const lse = emptyTensor([...lead, tq], 'attention-lse');
  const uniforms = { heads, tq, tk, scale };
  const spec = { d4: d / 4 };
  // Workgroup-memory tiles on a real GPU, register blocks on a software adapter (tuning.ts).
  const tuning = runtime().tuning;
  const tiled = tuning.attentionTiled || d > tuning.attentionRegisterMaxHeadDim;
  const kernels = tiled
    ? { forward: attentionTiledForwardKernel, queryGrad: attentionTiledQueryGradKernel, keyValueGrad: attentionTiledKeyValueGradKernel }
    : { forward: attentionForwardKernel, queryGrad: attentionQueryGradKernel, keyValueGrad: attentionKeyValueGradKernel };
  const blockRows = tiled ? ATTENTION_TILED_ROWS : ATTENTION_BLOCK_ROWS;
  const grid = (rows: number): [number, number, number] => {
    const [y, z] = foldedGrid(heads);
    return [Math.ceil(rows / blockRows), y, z];
  };
  if (out.size > 0) {
    launch(kernels.forward, spec, { qs: q, ks: k, vs: v, outs: out, lses: lse }, uniforms, grid(tq));
  }
  return record(out, 'attention', [q, k, v], (g) => {
    const dq = emptyTensor(q.shape, 'attention-grad-q');
    const dk = emptyTensor(k.shape, 'attention-grad-k');
    const dv = emptyTensor(v.shape, 'attention-grad-v');
    if (out.size === 0) return [dq, dk, dv];
    // D_i = dO_i·O_i, written by the query-grad kernel and read by the key-value one.
    const delta = emptyTensor([...lead, tq], 'attention-delta');
    launch(kernels.queryGrad, spec, { qs: q, ks: k, vs: v, outs: out, gs: g, lses: lse, dqs: dq, deltas: delta }, uniforms, grid(tq));
    launch(kernels.keyValueGrad, spec, { qs: q, ks: k, vs: v, gs: g, lses: lse, deltas: delta, dks: dk, dvs: dv }, uniforms, grid(tk));
    delta.dispose();
    return [dq, dk, dv];
  });
}

/** The scores stored: (q · scale) kᵀ, softmax over the keys, times v (q is the smaller to scale). */
function attentionMaterialised(q: Tensor, k: Tensor, v: Tensor, scale: number): Tensor {
  const qScaled = mulScalar(q, scale);
  const scores = matmul(qScaled, k, { transposeB: true });
  const probs = softmax(scores);
  return matmul(probs, v);
}

/**
 * softmax(q kᵀ · scale) v for q [..., Tq, d] and k, v [..., Tk, d] (e.g. [batch, heads, tokens,
 * headDim]), with d ≤ ATTENTION_MAX_HEAD_DIM.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  assertTensor('attention', 'q', q);
  assertTensor('attention', 'k', k);
  assertTensor('attention', 'v', v);
  assertSameDtype('attention', { q, k, v });
  const p = plan(q, k, v);
  const scale = options.scale ?? 1 / Math.sqrt(p.d);
  if (!Number.isFinite(scale)) throw new Error(`attention: scale must be a finite number, got ${scale}`);
  const scoreBytes = 4 * sizeOf(p.lead) * p.tq * p.tk;
  const t = runtime().tuning;
  // f16 inputs (sampling) always run fused: stored f16 scores would lose |s|·2^-11 of each
  // logit before the exponential (0.5% of a probability at |s| = 10); fused keeps them in f32.
  const materialise = q.dtype === 'f32' && p.tk >= t.attentionMaterialiseMinKeys && p.tk <= t.attentionMaterialiseMaxKeys;
  if (materialise && scoreBytes <= MATERIALISED_MAX_BYTES) {
    return attentionMaterialised(q, k, v, scale);
  }
  const d4 = Math.ceil(p.d / 4);
  if (d4 * 4 === p.d) return attentionFused(q, k, v, p, scale);
  const out = attentionFused(padHeadDim(q, d4), padHeadDim(k, d4), padHeadDim(v, d4), { ...p, d: d4 * 4 }, scale);
  return slice(out, -1, 0, p.d);
}
