// Fused scaled-dot-product attention, flash-attention style. One invocation owns
// ATTENTION_ROWS rows (query rows forward, key rows for dK/dV) of one (batch, head) and streams
// the other side's rows through registers in blocks, so no Tq×Tk matrix is ever stored:
//   forward:        online softmax over blocks of ATTENTION_KEY_BLOCK keys (running max m and
//                   sum l, the accumulator rescaled once per block); saves lse = m + log l per row.
//   query-grad:     P = exp(S − lse) recomputed; D_i = dO_i·O_i;
//                   dQ_i = scale · Σ_j P_ij (dO_i·V_j − D_i) K_j; writes D for the next kernel.
//   key-value-grad: dV_j = Σ_i P_ij dO_i;  dK_j = scale · Σ_i P_ij (dO_i·V_j − D_i) Q_i.
// Rows are vec4: the op pads the head dim to a multiple of 4. The head dim is a specialisation
// constant, so the per-invocation row arrays hold exactly R rows of it (a 64-dim head: 1 KiB per
// row array, not the 4 KiB sized for ATTENTION_MAX_HEAD_DIM).
//
// Why the generator unrolls the loops over rows and block columns itself: SwiftShader keeps
// WGSL loops as loops, and arrays indexed by a loop counter become per-lane memory traffic; with
// the unrolled code (named registers, constant indices) the forward ran 3× faster there. Score
// blocks are vec4s over 4 keys (or queries) filled with fma from the 4×4 block of their dims,
// as in the matmul kernel. No workgroup memory (such pipelines take seconds to build on
// SwiftShader), hence no barriers, and early returns are safe. Accumulators declared inside a
// loop are initialised explicitly: SwiftShader does not re-zero a bare `var` on each iteration.

import { comptime, defineKernel, ELEM4_IN, ELEM4_OUT, type BindingDecl } from './kernel.ts';

export const ATTENTION_WORKGROUP = 64;
/** Rows owned by one invocation: each vec4 loaded from the other side serves this many rows. */
export const ATTENTION_ROWS = 4;
/** Keys per online-softmax step of the forward (one rescale per block); a multiple of 4. */
export const ATTENTION_KEY_BLOCK = 8;
/**
 * Keys (query-grad) or queries (key-value-grad) per backward step; a multiple of 4. SwiftShader,
 * [8, 256, 64] forward + backward: 421 ms at 4, 350 at 8, 333 at 16 (8: most of the gain at half
 * the unrolled code of 16).
 */
export const ATTENTION_GRAD_BLOCK = 8;
/** 256: DDPM's CIFAR-10 network attends with one head over 256 channels. */
export const ATTENTION_MAX_HEAD_DIM = 256;
/** Rows covered by one workgroup. */
export const ATTENTION_BLOCK_ROWS = ATTENTION_WORKGROUP * ATTENTION_ROWS;

const ATTENTION_UNIFORMS = {
  /** (batch, head) pairs: the grid's y (and z, when folded). */
  heads: 'u32',
  tq: 'u32',
  tk: 'u32',
  scale: 'f32',
} as const;

// ---- code generation helpers --------------------------------------------------------------

const range = (n: number): number[] => [...Array(n).keys()];
const ROWS = range(ATTENTION_ROWS);
const XYZW = ['x', 'y', 'z', 'w'] as const;

/** The lines made for each item, each indented by `indent` spaces. */
function each<T>(items: readonly T[], indent: number, lines: (item: T) => string | string[]): string {
  return items
    .flatMap((it) => [lines(it)].flat())
    .flatMap((l) => l.split('\n'))
    .map((l) => ' '.repeat(indent) + l)
    .join('\n');
}

const maxOf = (exprs: string[]): string => exprs.reduce((a, b) => `max(${a}, ${b})`);

/** Component `i` (0..n-1) of a block of vec4s named `${name}${i/4}`, e.g. p0_1.z. */
const lane = (name: string, i: number): string => `${name}${Math.floor(i / 4)}.${XYZW[i % 4]}`;

/**
 * acc += scores of `row` (a vec4 over dims c..c+3) against 4 vectors `cols` (their dims c..c+3):
 * the 4×4 block is read column by column, so each step is one fma.
 */
function fmaBlock(acc: string, row: string, cols: readonly string[]): string[] {
  return XYZW.map((x) => {
    const column = cols.map((c) => `${c}.${x}`).join(', ');
    return `${acc} = fma(vec4<f32>(${row}.${x}), vec4<f32>(${column}), ${acc});`;
  });
}

/** `valid${b}`: which of the block's 4 positions from `start` lie before `end`. */
function validMasks(blocks: number, start: string, end: string): string[] {
  return range(blocks).map((b) => {
    const offsets = range(4).map((i) => `${4 * b + i}u`).join(', ');
    return `let valid${b} = vec4<u32>(${start}) + vec4<u32>(${offsets}) < vec4<u32>(${end});`;
  });
}

/** The head dim in vec4s is a compile-time constant: row arrays are sized to it, loops over it have a constant trip count. */
const HEAD_DIM_SPEC = { d4: comptime.int(1, ATTENTION_MAX_HEAD_DIM / 4) };

const constants = (d4: number): string => /* wgsl */ `
const WG = ${ATTENTION_WORKGROUP}u;
const R = ${ATTENTION_ROWS}u;
const MAXD4 = ${d4}u;
const NEG_BIG = -1.0e30;
fn hmax(v: vec4<f32>) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }
`;

/**
 * Entry header after the @compute attribute `attr`: `head` (batch·heads + head), this
 * invocation's rows `first`..`first + R − 1` (clamped to `lastRow` for loading, skipped past it
 * when writing).
 */
function entry(attr: string, rowsExpr: string): string {
  return /* wgsl */ `
${attr}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let head = wid.y + wid.z * nwg.y;
  let first = (wid.x * WG + lid) * R;
  if (head >= params.heads || first >= ${rowsExpr}) { return; }
  let d4 = MAXD4;
  let qHead = head * params.tq;
  let kHead = head * params.tk;
  let lastRow = ${rowsExpr} - 1u;`;
}

/** Bindings of vec4 rows (read, or written) and of f32 per-row values. */
const ROWS_IN = { access: 'read', type: 'vec4<f32>' } as const satisfies BindingDecl;
const ROWS_OUT = { access: 'read_write', type: 'vec4<f32>' } as const satisfies BindingDecl;


// ---- forward ------------------------------------------------------------------------------

const KEYS = range(ATTENTION_KEY_BLOCK);
const BLOCKS = range(ATTENTION_KEY_BLOCK / 4);
const ROW_BLOCKS = ROWS.flatMap((r) => BLOCKS.map((b) => [r, b] as const));

export const attentionForwardKernel = defineKernel({
  name: 'attention',
  uniforms: ATTENTION_UNIFORMS,
  // q, k, v and the output in f16 when sampling in half precision; the math and lse in f32.
  bindings: { qs: ELEM4_IN, ks: ELEM4_IN, vs: ELEM4_IN, outs: ELEM4_OUT, lses: 'read_write' },
  specialise: HEAD_DIM_SPEC,
  workgroupSize: ATTENTION_WORKGROUP,
  body: ({ d4 }, kernel) => `${constants(d4)}
${entry(kernel.entry, 'params.tq')}
  var q: array<vec4<f32>, R * MAXD4>;
  var o: array<vec4<f32>, R * MAXD4>;
${each(ROWS, 2, (r) => `let qAt${r} = (qHead + min(first + ${r}u, lastRow)) * d4;`)}
  for (var c = 0u; c < d4; c++) {
${each(ROWS, 4, (r) => `q[${r}u * MAXD4 + c] = vec4<f32>(qs[qAt${r} + c]) * params.scale;`)}
  }
${each(ROWS, 2, (r) => `var m${r} = NEG_BIG;\nvar l${r} = 0.0;`)}
  for (var j0 = 0u; j0 < params.tk; j0 += ${ATTENTION_KEY_BLOCK}u) {
    // Keys past the end are clamped for loading and get weight 0.
${each(KEYS, 4, (j) => `let kAt${j} = (kHead + min(j0 + ${j}u, params.tk - 1u)) * d4;`)}
${each(ROW_BLOCKS, 4, ([r, b]) => `var s${r}_${b} = vec4<f32>();`)}
    for (var c = 0u; c < d4; c++) {
${each(ROWS, 6, (r) => `let q${r} = q[${r}u * MAXD4 + c];`)}
${each(KEYS, 6, (j) => `let k${j} = vec4<f32>(ks[kAt${j} + c]);`)}
${each(ROW_BLOCKS, 6, ([r, b]) => fmaBlock(`s${r}_${b}`, `q${r}`, range(4).map((i) => `k${4 * b + i}`)))}
    }
    // Online softmax: m moves to the block's max, l and o are rescaled by exp(m_old − m).
${each(validMasks(BLOCKS.length, 'j0', 'params.tk'), 4, (l) => l)}
${each(ROWS, 4, (r) => [
  `let mNew${r} = ${maxOf([`m${r}`, ...BLOCKS.map((b) => `hmax(select(vec4<f32>(NEG_BIG), s${r}_${b}, valid${b}))`)])};`,
  `let correction${r} = exp(m${r} - mNew${r});`,
  ...BLOCKS.map((b) => `let p${r}_${b} = select(vec4<f32>(), exp(s${r}_${b} - vec4<f32>(mNew${r})), valid${b});`),
  `l${r} = l${r} * correction${r} + dot(${BLOCKS.map((b) => `p${r}_${b}`).join(' + ')}, vec4<f32>(1.0));`,
  `m${r} = mNew${r};`,
])}
    for (var c = 0u; c < d4; c++) {
${each(ROWS, 6, (r) => `var o${r} = o[${r}u * MAXD4 + c] * correction${r};`)}
${each(KEYS, 6, (j) => [
  `let v${j} = vec4<f32>(vs[kAt${j} + c]);`,
  ...ROWS.map((r) => `o${r} = fma(vec4<f32>(${lane(`p${r}_`, j)}), v${j}, o${r});`),
])}
${each(ROWS, 6, (r) => `o[${r}u * MAXD4 + c] = o${r};`)}
    }
  }
${each(ROWS, 2, (r) => [
  `if (first + ${r}u <= lastRow) {`,
  `  for (var c = 0u; c < d4; c++) { outs[qAt${r} + c] = vec4<Elem>(o[${r}u * MAXD4 + c] / l${r}); }`,
  `  lses[qHead + first + ${r}u] = m${r} + log(l${r});`,
  `}`,
])}
}`,
});

// ---- backward -----------------------------------------------------------------------------

const GRAD_COLS = range(ATTENTION_GRAD_BLOCK);
const GRAD_BLOCKS = range(ATTENTION_GRAD_BLOCK / 4);
const GRAD_ROW_BLOCKS = ROWS.flatMap((r) => GRAD_BLOCKS.map((b) => [r, b] as const));

export const attentionQueryGradKernel = defineKernel({
  name: 'attention-grad-q',
  uniforms: ATTENTION_UNIFORMS,
  bindings: {
    qs: ROWS_IN,
    ks: ROWS_IN,
    vs: ROWS_IN,
    outs: ROWS_IN,
    gs: ROWS_IN,
    lses: 'read',
    dqs: ROWS_OUT,
    deltas: 'read_write',
  },
  specialise: HEAD_DIM_SPEC,
  workgroupSize: ATTENTION_WORKGROUP,
  body: ({ d4 }, kernel) => `${constants(d4)}
${entry(kernel.entry, 'params.tq')}
  var q: array<vec4<f32>, R * MAXD4>;
  var g: array<vec4<f32>, R * MAXD4>;
  var dq: array<vec4<f32>, R * MAXD4>;
${each(ROWS, 2, (r) => [
  `let qRow${r} = qHead + min(first + ${r}u, lastRow);`,
  `let qAt${r} = qRow${r} * d4;`,
  `let lse${r} = lses[qRow${r}];`,
  `var delta${r} = 0.0;`,
])}
  for (var c = 0u; c < d4; c++) {
${each(ROWS, 4, (r) => [
  `q[${r}u * MAXD4 + c] = qs[qAt${r} + c] * params.scale;`,
  `let g${r} = gs[qAt${r} + c];`,
  `g[${r}u * MAXD4 + c] = g${r};`,
  `delta${r} += dot(g${r}, outs[qAt${r} + c]);`,
])}
  }
  for (var j0 = 0u; j0 < params.tk; j0 += ${ATTENTION_GRAD_BLOCK}u) {
${each(GRAD_COLS, 4, (j) => `let kAt${j} = (kHead + min(j0 + ${j}u, params.tk - 1u)) * d4;`)}
${each(GRAD_ROW_BLOCKS, 4, ([r, b]) => `var s${r}_${b} = vec4<f32>();\nvar dp${r}_${b} = vec4<f32>();`)}
    for (var c = 0u; c < d4; c++) {
${each(ROWS, 6, (r) => `let q${r} = q[${r}u * MAXD4 + c];\nlet g${r} = g[${r}u * MAXD4 + c];`)}
${each(GRAD_COLS, 6, (j) => `let k${j} = ks[kAt${j} + c];\nlet v${j} = vs[kAt${j} + c];`)}
${each(GRAD_ROW_BLOCKS, 6, ([r, b]) => [
  ...fmaBlock(`s${r}_${b}`, `q${r}`, range(4).map((i) => `k${4 * b + i}`)),
  ...fmaBlock(`dp${r}_${b}`, `g${r}`, range(4).map((i) => `v${4 * b + i}`)),
])}
    }
    // dS = P ⊙ (dP − D), zero for keys past the end.
${each(validMasks(GRAD_BLOCKS.length, 'j0', 'params.tk'), 4, (l) => l)}
${each(GRAD_ROW_BLOCKS, 4, ([r, b]) =>
  `let ds${r}_${b} = select(vec4<f32>(), exp(s${r}_${b} - vec4<f32>(lse${r})) * (dp${r}_${b} - vec4<f32>(delta${r})), valid${b});`,
)}
    for (var c = 0u; c < d4; c++) {
${each(ROWS, 6, (r) => `var dq${r} = dq[${r}u * MAXD4 + c];`)}
${each(GRAD_COLS, 6, (j) => [
  `let k${j} = ks[kAt${j} + c];`,
  ...ROWS.map((r) => `dq${r} = fma(vec4<f32>(${lane(`ds${r}_`, j)}), k${j}, dq${r});`),
])}
${each(ROWS, 6, (r) => `dq[${r}u * MAXD4 + c] = dq${r};`)}
    }
  }
${each(ROWS, 2, (r) => [
  `if (first + ${r}u <= lastRow) {`,
  `  for (var c = 0u; c < d4; c++) { dqs[qAt${r} + c] = dq[${r}u * MAXD4 + c] * params.scale; }`,
  `  deltas[qRow${r}] = delta${r};`,
  `}`,
])}
}`,
});

const quad = (name: string, b: number) => range(4).map((i) => `${name}${4 * b + i}`);

export const attentionKeyValueGradKernel = defineKernel({
  name: 'attention-grad-kv',
  uniforms: ATTENTION_UNIFORMS,
  bindings: {
    qs: ROWS_IN,
    ks: ROWS_IN,
    vs: ROWS_IN,
    gs: ROWS_IN,
    lses: 'read',
    deltas: 'read',
    dks: ROWS_OUT,
    dvs: ROWS_OUT,
  },
  specialise: HEAD_DIM_SPEC,
  workgroupSize: ATTENTION_WORKGROUP,
  body: ({ d4 }, kernel) => `${constants(d4)}
${entry(kernel.entry, 'params.tk')}
  var k: array<vec4<f32>, R * MAXD4>;
  var v: array<vec4<f32>, R * MAXD4>;
  var dk: array<vec4<f32>, R * MAXD4>;
  var dv: array<vec4<f32>, R * MAXD4>;
${each(ROWS, 2, (r) => `let kAt${r} = (kHead + min(first + ${r}u, lastRow)) * d4;`)}
  for (var c = 0u; c < d4; c++) {
${each(ROWS, 4, (r) => `k[${r}u * MAXD4 + c] = ks[kAt${r} + c] * params.scale;\nv[${r}u * MAXD4 + c] = vs[kAt${r} + c];`)}
  }
  for (var i0 = 0u; i0 < params.tq; i0 += ${ATTENTION_GRAD_BLOCK}u) {
    // Query rows past the end are clamped for loading and get weight 0.
${each(GRAD_COLS, 4, (i) => `let qRow${i} = qHead + min(i0 + ${i}u, params.tq - 1u);\nlet qAt${i} = qRow${i} * d4;`)}
${each(GRAD_BLOCKS, 4, (b) => [
  `let lse${b} = vec4<f32>(${quad('qRow', b).map((x) => `lses[${x}]`).join(', ')});`,
  `let delta${b} = vec4<f32>(${quad('qRow', b).map((x) => `deltas[${x}]`).join(', ')});`,
])}
${each(GRAD_ROW_BLOCKS, 4, ([r, b]) => `var s${r}_${b} = vec4<f32>();\nvar dp${r}_${b} = vec4<f32>();`)}
    for (var c = 0u; c < d4; c++) {
${each(ROWS, 6, (r) => `let k${r} = k[${r}u * MAXD4 + c];\nlet v${r} = v[${r}u * MAXD4 + c];`)}
${each(GRAD_COLS, 6, (i) => `let q${i} = qs[qAt${i} + c];\nlet g${i} = gs[qAt${i} + c];`)}
${each(GRAD_ROW_BLOCKS, 6, ([r, b]) => [
  ...fmaBlock(`s${r}_${b}`, `k${r}`, quad('q', b)),
  ...fmaBlock(`dp${r}_${b}`, `v${r}`, quad('g', b)),
])}
    }
${each(validMasks(GRAD_BLOCKS.length, 'i0', 'params.tq'), 4, (l) => l)}
${each(GRAD_ROW_BLOCKS, 4, ([r, b]) => [
  `let p${r}_${b} = select(vec4<f32>(), exp(s${r}_${b} - lse${b}), valid${b});`,
  `let ds${r}_${b} = p${r}_${b} * (dp${r}_${b} - delta${b});`,
])}
    for (var c = 0u; c < d4; c++) {
${each(ROWS, 6, (r) => `var dk${r} = dk[${r}u * MAXD4 + c];\nvar dv${r} = dv[${r}u * MAXD4 + c];`)}
${each(GRAD_COLS, 6, (i) => [
  `let q${i} = qs[qAt${i} + c];`,
  `let g${i} = gs[qAt${i} + c];`,
  ...ROWS.flatMap((r) => [
    `dv${r} = fma(vec4<f32>(${lane(`p${r}_`, i)}), g${i}, dv${r});`,
    `dk${r} = fma(vec4<f32>(${lane(`ds${r}_`, i)}), q${i}, dk${r});`,
  ]),
])}
${each(ROWS, 6, (r) => `dk[${r}u * MAXD4 + c] = dk${r};\ndv[${r}u * MAXD4 + c] = dv${r};`)}
    }
  }
${each(ROWS, 2, (r) => [
  `if (first + ${r}u <= lastRow) {`,
  `  for (var c = 0u; c < d4; c++) {`,
  `    dks[kAt${r} + c] = dk[${r}u * MAXD4 + c] * params.scale;`,
  `    dvs[kAt${r} + c] = dv[${r}u * MAXD4 + c];`,
  `  }`,
  `}`,
])}
}`,
});
