// Fused scaled-dot-product attention, flash-attention style. One invocation owns
// ATTENTION_ROWS rows (query rows forward, key rows for dK/dV) of one (batch, head) and streams
// the other side's rows through registers, so no Tq×Tk matrix is ever stored:
//   forward:        online softmax over key blocks of ATTENTION_KEY_BLOCK (running max m and sum
//                   l, the accumulator rescaled once per block); saves lse = m + log l per row.
//   query-grad:     P = exp(S − lse) recomputed; D_i = dO_i·O_i;
//                   dQ_i = scale · Σ_j P_ij (dO_i·V_j − D_i) K_j; writes D for the next kernel.
//   key-value-grad: dV_j = Σ_i P_ij dO_i;  dK_j = scale · Σ_i P_ij (dO_i·V_j − D_i) Q_i.
// Rows are vec4: the op pads the head dim to a multiple of 4. The head dim is a uniform;
// ATTENTION_MAX_HEAD_DIM only sizes the per-invocation row registers.
// No workgroup memory (such pipelines take seconds to build on SwiftShader), hence no barriers
// and early returns are safe. Accumulators declared inside loops are initialised explicitly
// (`array<f32, R>()`): SwiftShader does not re-zero a bare `var` on each iteration.

import { UniformLayout, declareBindings, type KernelSpec, type StorageBinding } from './common.ts';

export const ATTENTION_WORKGROUP = 64;
/** Rows owned by one invocation: each loaded key/query vec4 is used this many times. */
export const ATTENTION_ROWS = 8;
/** Keys per online-softmax step of the forward (one rescale of the accumulator per block). */
export const ATTENTION_KEY_BLOCK = 4;
export const ATTENTION_MAX_HEAD_DIM = 64;
/** Rows covered by one workgroup. */
export const ATTENTION_BLOCK_ROWS = ATTENTION_WORKGROUP * ATTENTION_ROWS;

export const attentionUniforms = new UniformLayout([
  /** (batch, head) pairs: the grid's y (and z, when folded). */
  { name: 'heads', type: 'u32' },
  { name: 'tq', type: 'u32' },
  { name: 'tk', type: 'u32' },
  /** Head dim in vec4s. */
  { name: 'd4', type: 'u32' },
  { name: 'scale', type: 'f32' },
]);

const CONSTANTS = /* wgsl */ `
const WG = ${ATTENTION_WORKGROUP}u;
const R = ${ATTENTION_ROWS}u;
const BK = ${ATTENTION_KEY_BLOCK}u;
const MAXD4 = ${ATTENTION_MAX_HEAD_DIM / 4}u;
const NEG_BIG = -3.0e38;
`;

/** Entry header: `head` (batch·heads + head), `first` (this invocation's row 0) and `lastRow`. */
function entry(rowsExpr: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${ATTENTION_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let head = wid.y + wid.z * nwg.y;
  let first = wid.x * WG * R + lid;
  if (head >= params.heads || first >= ${rowsExpr}) { return; }
  let d4 = params.d4;
  let qHead = head * params.tq;
  let kHead = head * params.tk;
  // Rows past the end are clamped for loading and skipped when writing.
  let lastRow = ${rowsExpr} - 1u;`;
}

const vec4Rows = (names: string[]): StorageBinding[] => names.map((name) => ({ name, access: 'read', type: 'vec4<f32>' }));

export function attentionForwardKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    ...vec4Rows(['qs', 'ks', 'vs']),
    { name: 'outs', access: 'read_write', type: 'vec4<f32>' },
    { name: 'lses', access: 'read_write' },
  ];
  const code = `${declareBindings(attentionUniforms, storage)}
${CONSTANTS}
${entry('params.tq')}
  var q: array<vec4<f32>, R * MAXD4>;
  var o: array<vec4<f32>, R * MAXD4>;
  var m: array<f32, R>;
  var l: array<f32, R>;
  for (var r = 0u; r < R; r++) {
    let at = (qHead + min(first + r * WG, lastRow)) * d4;
    for (var c = 0u; c < d4; c++) { q[r * MAXD4 + c] = qs[at + c] * params.scale; }
    m[r] = NEG_BIG;
  }
  for (var j0 = 0u; j0 < params.tk; j0 += BK) {
    // Keys past the end are clamped for loading and get weight 0.
    var kRow: array<u32, BK>;
    for (var jj = 0u; jj < BK; jj++) { kRow[jj] = (kHead + min(j0 + jj, params.tk - 1u)) * d4; }
    // Scores of R rows × BK keys, accumulated in registers.
    var s = array<f32, R * BK>();
    for (var c = 0u; c < d4; c++) {
      var qc: array<vec4<f32>, R>;
      for (var r = 0u; r < R; r++) { qc[r] = q[r * MAXD4 + c]; }
      for (var jj = 0u; jj < BK; jj++) {
        let kv = ks[kRow[jj] + c];
        for (var r = 0u; r < R; r++) { s[r * BK + jj] += dot(qc[r], kv); }
      }
    }
    // Online softmax: move m to the block's max, turn scores into weights, rescale l (and o below).
    let n = min(BK, params.tk - j0);
    var correction: array<f32, R>;
    for (var r = 0u; r < R; r++) {
      var mNew = m[r];
      for (var jj = 0u; jj < BK; jj++) { if (jj < n) { mNew = max(mNew, s[r * BK + jj]); } }
      correction[r] = exp(m[r] - mNew);
      m[r] = mNew;
      var sum = l[r] * correction[r];
      for (var jj = 0u; jj < BK; jj++) {
        let e = select(0.0, exp(s[r * BK + jj] - mNew), jj < n);
        s[r * BK + jj] = e;
        sum += e;
      }
      l[r] = sum;
    }
    for (var c = 0u; c < d4; c++) {
      var acc: array<vec4<f32>, R>;
      for (var r = 0u; r < R; r++) { acc[r] = o[r * MAXD4 + c] * correction[r]; }
      for (var jj = 0u; jj < BK; jj++) {
        let vv = vs[kRow[jj] + c];
        for (var r = 0u; r < R; r++) { acc[r] = fma(vec4<f32>(s[r * BK + jj]), vv, acc[r]); }
      }
      for (var r = 0u; r < R; r++) { o[r * MAXD4 + c] = acc[r]; }
    }
  }
  for (var r = 0u; r < R; r++) {
    let row = first + r * WG;
    if (row <= lastRow) {
      let at = (qHead + row) * d4;
      let inv = 1.0 / l[r];
      for (var c = 0u; c < d4; c++) { outs[at + c] = o[r * MAXD4 + c] * inv; }
      lses[qHead + row] = m[r] + log(l[r]);
    }
  }
}`;
  return { key: 'attention', code, storage, uniforms: attentionUniforms, workgroupSize: ATTENTION_WORKGROUP };
}

export function attentionQueryGradKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    ...vec4Rows(['qs', 'ks', 'vs', 'outs', 'gs']),
    { name: 'lses', access: 'read' },
    { name: 'dqs', access: 'read_write', type: 'vec4<f32>' },
    { name: 'deltas', access: 'read_write' },
  ];
  const code = `${declareBindings(attentionUniforms, storage)}
${CONSTANTS}
${entry('params.tq')}
  var q: array<vec4<f32>, R * MAXD4>;
  var g: array<vec4<f32>, R * MAXD4>;
  var dq: array<vec4<f32>, R * MAXD4>;
  var lse: array<f32, R>;
  var delta: array<f32, R>;
  for (var r = 0u; r < R; r++) {
    let row = qHead + min(first + r * WG, lastRow);
    let at = row * d4;
    for (var c = 0u; c < d4; c++) {
      q[r * MAXD4 + c] = qs[at + c] * params.scale;
      let gv = gs[at + c];
      g[r * MAXD4 + c] = gv;
      delta[r] += dot(gv, outs[at + c]);
    }
    lse[r] = lses[row];
  }
  for (var j = 0u; j < params.tk; j++) {
    let at = (kHead + j) * d4;
    var s = array<f32, R>();
    var dp = array<f32, R>();
    for (var c = 0u; c < d4; c++) {
      let kv = ks[at + c];
      let vv = vs[at + c];
      for (var r = 0u; r < R; r++) {
        s[r] += dot(q[r * MAXD4 + c], kv);
        dp[r] += dot(g[r * MAXD4 + c], vv);
      }
    }
    var ds = array<f32, R>();
    for (var r = 0u; r < R; r++) { ds[r] = exp(s[r] - lse[r]) * (dp[r] - delta[r]); }
    for (var c = 0u; c < d4; c++) {
      let kv = ks[at + c];
      for (var r = 0u; r < R; r++) { dq[r * MAXD4 + c] = fma(vec4<f32>(ds[r]), kv, dq[r * MAXD4 + c]); }
    }
  }
  for (var r = 0u; r < R; r++) {
    let row = first + r * WG;
    if (row <= lastRow) {
      let at = (qHead + row) * d4;
      for (var c = 0u; c < d4; c++) { dqs[at + c] = dq[r * MAXD4 + c] * params.scale; }
      deltas[qHead + row] = delta[r];
    }
  }
}`;
  return { key: 'attention-grad-q', code, storage, uniforms: attentionUniforms, workgroupSize: ATTENTION_WORKGROUP };
}

export function attentionKeyValueGradKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    ...vec4Rows(['qs', 'ks', 'vs', 'gs']),
    { name: 'lses', access: 'read' },
    { name: 'deltas', access: 'read' },
    { name: 'dks', access: 'read_write', type: 'vec4<f32>' },
    { name: 'dvs', access: 'read_write', type: 'vec4<f32>' },
  ];
  const code = `${declareBindings(attentionUniforms, storage)}
${CONSTANTS}
${entry('params.tk')}
  var k: array<vec4<f32>, R * MAXD4>;
  var v: array<vec4<f32>, R * MAXD4>;
  var dk: array<vec4<f32>, R * MAXD4>;
  var dv: array<vec4<f32>, R * MAXD4>;
  for (var r = 0u; r < R; r++) {
    let at = (kHead + min(first + r * WG, lastRow)) * d4;
    for (var c = 0u; c < d4; c++) {
      k[r * MAXD4 + c] = ks[at + c] * params.scale;
      v[r * MAXD4 + c] = vs[at + c];
    }
  }
  for (var i = 0u; i < params.tq; i++) {
    let at = (qHead + i) * d4;
    var s = array<f32, R>();
    var dp = array<f32, R>();
    for (var c = 0u; c < d4; c++) {
      let qv = qs[at + c];
      let gv = gs[at + c];
      for (var r = 0u; r < R; r++) {
        s[r] += dot(qv, k[r * MAXD4 + c]);
        dp[r] += dot(gv, v[r * MAXD4 + c]);
      }
    }
    let lse = lses[qHead + i];
    let delta = deltas[qHead + i];
    var p = array<f32, R>();
    var ds = array<f32, R>();
    for (var r = 0u; r < R; r++) {
      p[r] = exp(s[r] - lse);
      ds[r] = p[r] * (dp[r] - delta);
    }
    for (var c = 0u; c < d4; c++) {
      let qv = qs[at + c];
      let gv = gs[at + c];
      for (var r = 0u; r < R; r++) {
        dv[r * MAXD4 + c] = fma(vec4<f32>(p[r]), gv, dv[r * MAXD4 + c]);
        dk[r * MAXD4 + c] = fma(vec4<f32>(ds[r]), qv, dk[r * MAXD4 + c]);
      }
    }
  }
  for (var r = 0u; r < R; r++) {
    let row = first + r * WG;
    if (row <= lastRow) {
      let at = (kHead + row) * d4;
      for (var c = 0u; c < d4; c++) {
        dks[at + c] = dk[r * MAXD4 + c] * params.scale;
        dvs[at + c] = dv[r * MAXD4 + c];
      }
    }
  }
}`;
  return { key: 'attention-grad-kv', code, storage, uniforms: attentionUniforms, workgroupSize: ATTENTION_WORKGROUP };
}
