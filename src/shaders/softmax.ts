// Row-wise softmax and log-softmax over the last axis, and their backwards. One workgroup per
// row; the max is subtracted before exp, so no row overflows.

import { comptime, defineKernel, ELEM_IN, ELEM_OUT } from './kernel.ts';

export const SOFTMAX_WORKGROUP = 64;

export type SoftmaxKind = 'softmax' | 'log-softmax';
const softmaxKind = comptime.oneOf<SoftmaxKind>(['softmax', 'log-softmax']);

/**
 * Workgroup-wide reductions of `v` (max and sum); every thread gets the result. Without
 * subgroups: a tree in workgroup memory (log2(64) barriers). With them: each subgroup reduces
 * in registers, its first invocation posts the result, and one barrier later every thread
 * combines the 64 / subgroup-size posts (subgroups are runs of consecutive invocation indices,
 * as every implementation forms them for a 1-D workgroup).
 */
function reduceFns(subgroups: boolean): string {
  const fn = (name: string, combine: (a: string, b: string) => string, subgroupOp: string) =>
    subgroups
      ? `fn ${name}(v: f32, lid: u32, lane: u32, laneCount: u32) -> f32 {
  let r = ${subgroupOp}(v);
  if (lane == 0u) { scratch[lid / laneCount] = r; }
  workgroupBarrier();
  var t = scratch[0];
  for (var i = 1u; i < ${SOFTMAX_WORKGROUP}u / laneCount; i++) { t = ${combine('t', 'scratch[i]')}; }
  workgroupBarrier();
  return t;
}`
      : `fn ${name}(v: f32, lid: u32, lane: u32, laneCount: u32) -> f32 {
  scratch[lid] = v;
  workgroupBarrier();
  for (var stride = ${SOFTMAX_WORKGROUP / 2}u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { scratch[lid] = ${combine('scratch[lid]', 'scratch[lid + stride]')}; }
    workgroupBarrier();
  }
  let r = scratch[0];
  workgroupBarrier();
  return r;
}`;
  return /* wgsl */ `
var<workgroup> scratch: array<f32, ${SOFTMAX_WORKGROUP}>;
${fn('workgroupMax', (a, b) => `max(${a}, ${b})`, 'subgroupMax')}
${fn('workgroupSum', (a, b) => `${a} + ${b}`, 'subgroupAdd')}
`;
}

/** The entry point after `entry` (the @compute attribute): one workgroup per row. */
const main = (subgroups: boolean): string => /* wgsl */ `
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32${
          subgroups
            ? `,
        @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) laneCount: u32`
            : ''
        }) {${subgroups ? '' : '\n  let lane = 0u;\n  let laneCount = 1u;'}
  let row = wid.x + wid.y * nwg.x;
  // Rows past the end still take part in the barriers, on a clamped row, and write nothing.
  let cols = params.cols; // in a register: SwiftShader reloads a uniform at every use
  let base = min(row, params.rows - 1u) * cols;`;

/** The forward kernels' rows: f32, or f16 when sampling in half precision (sums in f32). */
const ELEM_BINDINGS = { xs: ELEM_IN, ys: ELEM_OUT } as const;

/** Both kernels' compile-time choices: the kind, and whether the reductions use subgroups. */
const SOFTMAX_SPEC = { kind: softmaxKind, subgroups: comptime.bool() };
const extensions = ({ subgroups }: { subgroups: boolean }) => (subgroups ? (['subgroups'] as const) : []);

export const softmaxKernel = defineKernel({
  name: 'softmax',
  uniforms: { rows: 'u32', cols: 'u32' },
  bindings: ELEM_BINDINGS,
  specialise: SOFTMAX_SPEC,
  extensions,
  workgroupSize: SOFTMAX_WORKGROUP,
  body: ({ kind, subgroups }, k) => {
    const write =
      kind === 'softmax'
        ? 'ys[base + c] = Elem(exp(f32(xs[base + c]) - m) / s);'
        : 'ys[base + c] = Elem(f32(xs[base + c]) - m - log(s));';
    return `${reduceFns(subgroups)}
${k.entry}${main(subgroups)}
  var m = -3.402823e38;
  for (var c = lid; c < cols; c += ${SOFTMAX_WORKGROUP}u) { m = max(m, f32(xs[base + c])); }
  m = workgroupMax(m, lid, lane, laneCount);
  var s = 0.0;
  for (var c = lid; c < cols; c += ${SOFTMAX_WORKGROUP}u) { s += exp(f32(xs[base + c]) - m); }
  s = workgroupSum(s, lid, lane, laneCount);
  if (row >= params.rows) { return; }
  for (var c = lid; c < cols; c += ${SOFTMAX_WORKGROUP}u) { ${write} }
}`;
  },
});

/**
 * softmax:     dx = y·(dy − Σ dy·y)
 * log-softmax: dx = dy − exp(y)·Σ dy
 */
export const softmaxGradKernel = defineKernel({
  name: 'softmax-grad',
  uniforms: { rows: 'u32', cols: 'u32' },
  bindings: { ys: 'read', dys: 'read', dxs: 'read_write' },
  specialise: SOFTMAX_SPEC,
  extensions,
  workgroupSize: SOFTMAX_WORKGROUP,
  body: ({ kind, subgroups }, k) => {
    const soft = kind === 'softmax';
    return `${reduceFns(subgroups)}
${k.entry}${main(subgroups)}
  var t = 0.0;
  for (var c = lid; c < cols; c += ${SOFTMAX_WORKGROUP}u) { t += dys[base + c]${soft ? ' * ys[base + c]' : ''}; }
  t = workgroupSum(t, lid, lane, laneCount);
  if (row >= params.rows) { return; }
  for (var c = lid; c < cols; c += ${SOFTMAX_WORKGROUP}u) {
    ${soft ? 'dxs[base + c] = ys[base + c] * (dys[base + c] - t);' : 'dxs[base + c] = dys[base + c] - exp(ys[base + c]) * t;'}
  }
}`;
  },
});

/**
 * One invocation per row, no workgroup memory and no barriers (software adapters, where a
 * barrier costs more than a row: SwiftShader runs a workgroup's invocations as fibers). The
 * exponentials are written in the sum pass and divided in place, so each is taken once.
 */
export const softmaxRowKernel = defineKernel({
  name: 'softmax-row',
  uniforms: { rows: 'u32', cols: 'u32' },
  bindings: ELEM_BINDINGS,
  specialise: { kind: softmaxKind },
  workgroupSize: SOFTMAX_WORKGROUP,
  invocations: 'rows',
  body: ({ kind }, k) => `${k.main}
  let cols = params.cols;
  let base = idx * cols;
  let end = base + cols;
  var m = -3.402823e38;
  for (var c = base; c < end; c++) { m = max(m, f32(xs[c])); }
  var s = 0.0;
  ${
    kind === 'softmax'
      ? `for (var c = base; c < end; c++) { let e = exp(f32(xs[c]) - m); ys[c] = Elem(e); s += e; }
  for (var c = base; c < end; c++) { ys[c] = Elem(f32(ys[c]) / s); }`
      : `for (var c = base; c < end; c++) { s += exp(f32(xs[c]) - m); }
  let logS = log(s);
  for (var c = base; c < end; c++) { ys[c] = Elem(f32(xs[c]) - m - logS); }`
  }
}`,
});

/** The backward of softmaxRowKernel: one invocation per row. */
export const softmaxGradRowKernel = defineKernel({
  name: 'softmax-grad-row',
  uniforms: { rows: 'u32', cols: 'u32' },
  bindings: { ys: 'read', dys: 'read', dxs: 'read_write' },
  specialise: { kind: softmaxKind },
  workgroupSize: SOFTMAX_WORKGROUP,
  invocations: 'rows',
  body: ({ kind }, k) => {
    const soft = kind === 'softmax';
    return `${k.main}
  let cols = params.cols;
  let base = idx * cols;
  let end = base + cols;
  var t = 0.0;
  for (var c = base; c < end; c++) { t += dys[c]${soft ? ' * ys[c]' : ''}; }
  for (var c = base; c < end; c++) {
    ${soft ? 'dxs[c] = ys[c] * (dys[c] - t);' : 'dxs[c] = dys[c] - exp(ys[c]) * t;'}
  }
}`;
  },
});
