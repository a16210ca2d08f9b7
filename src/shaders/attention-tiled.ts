// Fused attention for real GPUs, FlashAttention-2 style: a workgroup owns a block of rows (query
// rows forward and for dQ, key rows for dK/dV), one row per invocation, and streams the other
// side through workgroup memory in tiles of TILE rows, so every K/V (or Q/dO) row is read from
// global memory once per workgroup instead of once per invocation. Same bindings, uniforms and
// math as the register kernels in ./attention.ts (which a software adapter runs): the forward's
// online softmax keeps (m, l) per row and rescales once per tile; the backward recomputes
// P = exp(S − lse) and uses D_i = dO_i·O_i.
//
// The head dim (in vec4s) is a specialisation constant: a row's registers hold exactly it, and
// the tile is as tall as workgroup memory allows (16 KiB, WebGPU's default limit).

import { ATTENTION_MAX_HEAD_DIM } from './attention.ts';
import { comptime, defineKernel, ELEM4_IN, ELEM4_OUT, type BindingDecl, type BindingDecls } from './kernel.ts';

/** Rows per workgroup (one per invocation). */
export const ATTENTION_TILED_ROWS = 64;
const WORKGROUP_BYTES = 16384;

/** Rows of a streamed tile: two vec4 tiles of that many rows fit WORKGROUP_BYTES, at most 32. */
export function attentionTileRows(d4: number, extraFloatsPerRow = 0): number {
  const perRow = 2 * 16 * d4 + 4 * extraFloatsPerRow;
  return Math.max(4, Math.min(32, Math.floor(WORKGROUP_BYTES / perRow / 4) * 4));
}

const UNIFORMS = { heads: 'u32', tq: 'u32', tk: 'u32', scale: 'f32' } as const;
const ROWS_IN = { access: 'read', type: 'vec4<f32>' } as const satisfies BindingDecl;
const ROWS_OUT = { access: 'read_write', type: 'vec4<f32>' } as const satisfies BindingDecl;
const SPEC = { d4: comptime.int(1, ATTENTION_MAX_HEAD_DIM / 4) };

/**
 * The entry point: `head`, this invocation's `row` (of `rowsExpr`), `valid` (row in range; an
 * invalid invocation still loads tiles and meets every barrier) and `at`, its row's first vec4.
 */
function entry(attr: string, d4: number, tile: number, rowsExpr: string, headRows: string): string {
  return /* wgsl */ `
const D4 = ${d4}u;
const TILE = ${tile}u;
const WG = ${ATTENTION_TILED_ROWS}u;
const NEG_BIG = -1.0e30;
${attr}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let head = wid.y + wid.z * nwg.y;
  if (head >= params.heads) { return; }
  let qHead = head * params.tq;
  let kHead = head * params.tk;
  let row = wid.x * WG + lid;
  let valid = row < ${rowsExpr};
  let at = (${headRows} + min(row, ${rowsExpr} - 1u)) * D4;`;
}

/**
 * A kernel over query rows (forward and dQ): K and V rows streamed through workgroup tiles;
 * `body` follows the entry point's header.
 */
function queryRowsKernel<const B extends BindingDecls>(name: string, bindings: B, body: string) {
  return defineKernel({
    name,
    uniforms: UNIFORMS,
    bindings,
    specialise: SPEC,
    workgroupSize: ATTENTION_TILED_ROWS,
    body: ({ d4 }, k) => {
      const tile = attentionTileRows(d4);
      return /* wgsl */ `var<workgroup> kTile: array<vec4<f32>, ${tile * d4}>;
var<workgroup> vTile: array<vec4<f32>, ${tile * d4}>;
${entry(k.entry, d4, tile, 'params.tq', 'qHead')}${body}`;
    },
  });
}

/** WGSL: cooperative load of `tile` rows starting at `first` of `count` rows into the named tiles. */
function loadTiles(tiles: readonly [string, string][], base: string, first: string, count: string): string {
  return /* wgsl */ `
    for (var i = lid; i < TILE * D4; i += WG) {
      let r = first_ + i / D4;
      let src = (${base} + min(r, ${count} - 1u)) * D4 + i % D4;
${tiles.map(([tile, buf]) => `      ${tile}[i] = select(vec4<f32>(), vec4<f32>(${buf}[src]), r < ${count});`).join('\n')}
    }
    workgroupBarrier();`.replace(/first_/g, first);
}

export const attentionTiledForwardKernel = queryRowsKernel(
  'attention-tiled',
  { qs: ELEM4_IN, ks: ELEM4_IN, vs: ELEM4_IN, outs: ELEM4_OUT, lses: 'read_write' },
  /* wgsl */ `
  var q: array<vec4<f32>, D4>;
  var o: array<vec4<f32>, D4>;
  for (var c = 0u; c < D4; c++) { q[c] = vec4<f32>(qs[at + c]) * params.scale; }
  var m = NEG_BIG;
  var l = 0.0;
  var s: array<f32, TILE>;
  for (var j0 = 0u; j0 < params.tk; j0 += TILE) {
${loadTiles([['kTile', 'ks'], ['vTile', 'vs']], 'kHead', 'j0', 'params.tk')}
    var tileMax = NEG_BIG;
    for (var j = 0u; j < TILE; j++) {
      var dotQK = 0.0;
      for (var c = 0u; c < D4; c++) { dotQK += dot(q[c], kTile[j * D4 + c]); }
      s[j] = select(NEG_BIG, dotQK, j0 + j < params.tk);
      tileMax = max(tileMax, s[j]);
    }
    let mNew = max(m, tileMax);
    let correction = exp(m - mNew);
    l *= correction;
    for (var c = 0u; c < D4; c++) { o[c] *= correction; }
    for (var j = 0u; j < TILE; j++) {
      let p = select(0.0, exp(s[j] - mNew), j0 + j < params.tk);
      l += p;
      for (var c = 0u; c < D4; c++) { o[c] = fma(vec4<f32>(p), vTile[j * D4 + c], o[c]); }
    }
    m = mNew;
    workgroupBarrier();
  }
  if (valid) {
    for (var c = 0u; c < D4; c++) { outs[at + c] = vec4<Elem>(o[c] / l); }
    lses[qHead + row] = m + log(l);
  }
}`,
);

export const attentionTiledQueryGradKernel = queryRowsKernel(
  'attention-tiled-grad-q',
  { qs: ROWS_IN, ks: ROWS_IN, vs: ROWS_IN, outs: ROWS_IN, gs: ROWS_IN, lses: 'read', dqs: ROWS_OUT, deltas: 'read_write' },
  /* wgsl */ `
  var q: array<vec4<f32>, D4>;
  var g: array<vec4<f32>, D4>;
  var dq: array<vec4<f32>, D4>;
  var delta = 0.0;
  for (var c = 0u; c < D4; c++) {
    q[c] = qs[at + c] * params.scale;
    g[c] = gs[at + c];
    delta += dot(g[c], outs[at + c]);
  }
  let lse = lses[qHead + min(row, params.tq - 1u)];
  for (var j0 = 0u; j0 < params.tk; j0 += TILE) {
${loadTiles([['kTile', 'ks'], ['vTile', 'vs']], 'kHead', 'j0', 'params.tk')}
    for (var j = 0u; j < TILE; j++) {
      var sc = 0.0;
      var dp = 0.0;
      for (var c = 0u; c < D4; c++) {
        sc += dot(q[c], kTile[j * D4 + c]);
        dp += dot(g[c], vTile[j * D4 + c]);
      }
      // dS = P ⊙ (dP − D), zero for keys past the end.
      let ds = select(0.0, exp(sc - lse) * (dp - delta), j0 + j < params.tk);
      for (var c = 0u; c < D4; c++) { dq[c] = fma(vec4<f32>(ds), kTile[j * D4 + c], dq[c]); }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var c = 0u; c < D4; c++) { dqs[at + c] = dq[c] * params.scale; }
    deltas[qHead + row] = delta;
  }
}`,
);

export const attentionTiledKeyValueGradKernel = defineKernel({
  name: 'attention-tiled-grad-kv',
  uniforms: UNIFORMS,
  bindings: { qs: ROWS_IN, ks: ROWS_IN, vs: ROWS_IN, gs: ROWS_IN, lses: 'read', deltas: 'read', dks: ROWS_OUT, dvs: ROWS_OUT },
  specialise: SPEC,
  workgroupSize: ATTENTION_TILED_ROWS,
  body: ({ d4 }, k) => {
    const tile = attentionTileRows(d4, 2);
    return /* wgsl */ `
var<workgroup> qTile: array<vec4<f32>, ${tile * d4}>;
var<workgroup> gTile: array<vec4<f32>, ${tile * d4}>;
var<workgroup> lseTile: array<f32, ${tile}>;
var<workgroup> deltaTile: array<f32, ${tile}>;
${entry(k.entry, d4, tile, 'params.tk', 'kHead')}
  var kr: array<vec4<f32>, D4>;
  var vr: array<vec4<f32>, D4>;
  var dk: array<vec4<f32>, D4>;
  var dv: array<vec4<f32>, D4>;
  for (var c = 0u; c < D4; c++) {
    kr[c] = ks[at + c] * params.scale;
    vr[c] = vs[at + c];
  }
  for (var i0 = 0u; i0 < params.tq; i0 += TILE) {
    if (lid < TILE) {
      let qRow = qHead + min(i0 + lid, params.tq - 1u);
      lseTile[lid] = lses[qRow];
      deltaTile[lid] = deltas[qRow];
    }
${loadTiles([['qTile', 'qs'], ['gTile', 'gs']], 'qHead', 'i0', 'params.tq')}
    for (var i = 0u; i < TILE; i++) {
      var sc = 0.0;
      var dp = 0.0;
      for (var c = 0u; c < D4; c++) {
        sc += dot(kr[c], qTile[i * D4 + c]);
        dp += dot(vr[c], gTile[i * D4 + c]);
      }
      // Query rows past the end get weight 0.
      let p = select(0.0, exp(sc - lseTile[i]), i0 + i < params.tq);
      let ds = p * (dp - deltaTile[i]);
      for (var c = 0u; c < D4; c++) {
        dv[c] = fma(vec4<f32>(p), gTile[i * D4 + c], dv[c]);
        dk[c] = fma(vec4<f32>(ds), qTile[i * D4 + c], dk[c]);
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var c = 0u; c < D4; c++) {
      dks[at + c] = dk[c] * params.scale;
      dvs[at + c] = dv[c];
    }
  }
}`;
  },
});
