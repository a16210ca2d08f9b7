// Row-wise softmax and log-softmax over the last axis, and their backwards. One workgroup per
// row; the max is subtracted before exp, so no row overflows.

import { comptime, defineKernel } from './kernel.ts';

export const SOFTMAX_WORKGROUP = 64;

export type SoftmaxKind = 'softmax' | 'log-softmax';
const softmaxKind = comptime.oneOf<SoftmaxKind>(['softmax', 'log-softmax']);

/** Workgroup-wide reduction of `v` with `combine` ('max' or '+'); every thread gets the result. */
const REDUCE_FN = /* wgsl */ `
var<workgroup> scratch: array<f32, ${SOFTMAX_WORKGROUP}>;
fn workgroupReduce(v: f32, lid: u32, isMax: bool) -> f32 {
  scratch[lid] = v;
  workgroupBarrier();
  for (var stride = ${SOFTMAX_WORKGROUP / 2}u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      let o = scratch[lid + stride];
      scratch[lid] = select(scratch[lid] + o, max(scratch[lid], o), isMax);
    }
    workgroupBarrier();
  }
  let r = scratch[0];
  workgroupBarrier();
  return r;
}
`;

/** The entry point after `entry` (the @compute attribute): one workgroup per row. */
const MAIN = /* wgsl */ `
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  // Rows past the end still take part in the barriers, on a clamped row, and write nothing.
  let base = min(row, params.rows - 1u) * params.cols;`;

export const softmaxKernel = defineKernel({
  name: 'softmax',
  uniforms: { rows: 'u32', cols: 'u32' },
  bindings: { xs: 'read', ys: 'read_write' },
  specialise: { kind: softmaxKind },
  workgroupSize: SOFTMAX_WORKGROUP,
  body: ({ kind }, k) => {
    const write =
      kind === 'softmax'
        ? 'ys[base + c] = exp(xs[base + c] - m) / s;'
        : 'ys[base + c] = xs[base + c] - m - log(s);';
    return `${REDUCE_FN}
${k.entry}${MAIN}
  var m = -3.402823e38;
  for (var c = lid; c < params.cols; c += ${SOFTMAX_WORKGROUP}u) { m = max(m, xs[base + c]); }
  m = workgroupReduce(m, lid, true);
  var s = 0.0;
  for (var c = lid; c < params.cols; c += ${SOFTMAX_WORKGROUP}u) { s += exp(xs[base + c] - m); }
  s = workgroupReduce(s, lid, false);
  if (row >= params.rows) { return; }
  for (var c = lid; c < params.cols; c += ${SOFTMAX_WORKGROUP}u) { ${write} }
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
  specialise: { kind: softmaxKind },
  workgroupSize: SOFTMAX_WORKGROUP,
  body: ({ kind }, k) => {
    const soft = kind === 'softmax';
    return `${REDUCE_FN}
${k.entry}${MAIN}
  var t = 0.0;
  for (var c = lid; c < params.cols; c += ${SOFTMAX_WORKGROUP}u) { t += dys[base + c]${soft ? ' * ys[base + c]' : ''}; }
  t = workgroupReduce(t, lid, false);
  if (row >= params.rows) { return; }
  for (var c = lid; c < params.cols; c += ${SOFTMAX_WORKGROUP}u) {
    ${soft ? 'dxs[base + c] = ys[base + c] * (dys[base + c] - t);' : 'dxs[base + c] = dys[base + c] - exp(ys[base + c]) * t;'}
  }
}`;
  },
});
