// Elementwise kernels: unary maps and their derivatives, broadcasting binary ops, fill.

import {
  UniformLayout,
  unrolledOffsets,
  declareBindings,
  linearMain,
  type KernelSpec,
  type StorageBinding,
} from './common.ts';

export const ELEMENTWISE_WORKGROUP = 256;

/** Forward expression in `x` (and the uniforms `a`, `b`), derivative in `x`, `y`, `dy`. */
interface UnaryDef {
  forward: string;
  derivative: string;
}

// Stable forms: sigmoid and tanh never evaluate exp of a large positive argument.
const HELPERS = /* wgsl */ `
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn tanh_(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - t) / (1.0 + t);
}
`;

export const UNARY_OPS = {
  neg: { forward: '-x', derivative: '-dy' },
  exp: { forward: 'exp(x)', derivative: 'dy * y' },
  log: { forward: 'log(x)', derivative: 'dy / x' },
  sqrt: { forward: 'sqrt(x)', derivative: 'dy * 0.5 / y' },
  square: { forward: 'x * x', derivative: 'dy * 2.0 * x' },
  sigmoid: { forward: 'sigmoid_(x)', derivative: 'dy * y * (1.0 - y)' },
  silu: { forward: 'x * sigmoid_(x)', derivative: 'dy * sigmoid_(x) * (1.0 + x * (1.0 - sigmoid_(x)))' },
  tanh: { forward: 'tanh_(x)', derivative: 'dy * (1.0 - y * y)' },
  /** clamp to [a, b]; the gradient passes where x is inside. */
  clamp: { forward: 'clamp(x, params.a, params.b)', derivative: 'select(0.0, dy, x >= params.a && x <= params.b)' },
  /** y = a·x + b: the scalar add/sub/mul/div variants. */
  affine: { forward: 'params.a * x + params.b', derivative: 'params.a * dy' },
} satisfies Record<string, UnaryDef>;

export type UnaryOp = keyof typeof UNARY_OPS;

const unaryUniforms = new UniformLayout([
  { name: 'count', type: 'u32' },
  { name: 'a', type: 'f32' },
  { name: 'b', type: 'f32' },
]);

export function unaryKernel(op: UnaryOp): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'ys', access: 'read_write' },
  ];
  const code = `${declareBindings(unaryUniforms, storage)}
${HELPERS}
${linearMain(ELEMENTWISE_WORKGROUP, 'params.count')}
  let x = xs[idx];
  ys[idx] = ${UNARY_OPS[op].forward};
}`;
  return { key: `unary:${op}`, code, storage, uniforms: unaryUniforms, workgroupSize: ELEMENTWISE_WORKGROUP };
}

/** dx = f'(x)·dy, given the forward input x and output y. */
export function unaryGradKernel(op: UnaryOp): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'xs', access: 'read' },
    { name: 'ysOut', access: 'read' },
    { name: 'dys', access: 'read' },
    { name: 'dxs', access: 'read_write' },
  ];
  const code = `${declareBindings(unaryUniforms, storage)}
${HELPERS}
${linearMain(ELEMENTWISE_WORKGROUP, 'params.count')}
  let x = xs[idx];
  let y = ysOut[idx];
  let dy = dys[idx];
  dxs[idx] = ${UNARY_OPS[op].derivative};
}`;
  return { key: `unary-grad:${op}`, code, storage, uniforms: unaryUniforms, workgroupSize: ELEMENTWISE_WORKGROUP };
}

export { unaryUniforms };

export const BINARY_OPS = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
} as const;
export type BinaryOp = keyof typeof BINARY_OPS;

const binaryUniforms = new UniformLayout([
  { name: 'outShape', type: 'dims' },
  { name: 'aStrides', type: 'dims' },
  { name: 'bStrides', type: 'dims' },
  { name: 'rank', type: 'u32' },
  { name: 'count', type: 'u32' },
]);
export { binaryUniforms };

/**
 * out = a ∘ b. `broadcastRank` 0: all three share one shape (plain indexing); otherwise a and b
 * are read through strides (0 along broadcast axes) over an index space of that rank.
 */
export function binaryKernel(op: BinaryOp, broadcastRank: number): KernelSpec {
  const broadcast = broadcastRank > 0;
  const storage: StorageBinding[] = [
    { name: 'as_', access: 'read' },
    { name: 'bs', access: 'read' },
    { name: 'out', access: 'read_write' },
  ];
  const addressing = broadcast
    ? `var ia = 0u;
  var ib = 0u;
  ${unrolledOffsets(broadcastRank, 'outShape', 'idx', [['ia', 'aStrides'], ['ib', 'bStrides']])}`
    : `let ia = idx;
  let ib = idx;`;
  const code = `${declareBindings(binaryUniforms, storage)}
${linearMain(ELEMENTWISE_WORKGROUP, 'params.count')}
  ${addressing}
  let a = as_[ia];
  let b = bs[ib];
  out[idx] = ${BINARY_OPS[op]};
}`;
  return {
    key: `binary:${op}:${broadcast ? `bcast-r${broadcastRank}` : 'same'}`,
    code,
    storage,
    uniforms: binaryUniforms,
    workgroupSize: ELEMENTWISE_WORKGROUP,
  };
}

const fillUniforms = new UniformLayout([
  { name: 'count', type: 'u32' },
  { name: 'value', type: 'f32' },
]);
export { fillUniforms };

export function fillKernel(): KernelSpec {
  const storage: StorageBinding[] = [{ name: 'out', access: 'read_write' }];
  const code = `${declareBindings(fillUniforms, storage)}
${linearMain(ELEMENTWISE_WORKGROUP, 'params.count')}
  out[idx] = params.value;
}`;
  return { key: 'fill', code, storage, uniforms: fillUniforms, workgroupSize: ELEMENTWISE_WORKGROUP };
}
