// Elementwise kernels: unary maps and their derivatives, broadcasting binary ops, fill.

import { MAX_RANK, SIGMOID_WGSL, unrolledOffsets } from './common.ts';
import { comptime, defineKernel, ELEM_IN, ELEM_OUT, ELEM4_IN, ELEM4_OUT, type BodyContext } from './kernel.ts';

export const ELEMENTWISE_WORKGROUP = 256;

/** Forward expression in `x` (and the uniforms `a`, `b`), derivative in `x`, `y`, `dy`. */
interface UnaryDef {
  forward: string;
  derivative: string;
}

// Stable forms: sigmoid and tanh never overflow exp.
const HELPERS = /* wgsl */ `
${SIGMOID_WGSL}fn tanh_(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - t) / (1.0 + t);
}
// Derivatives from x, not from y: 1 − y² and y(1 − y) cancel catastrophically in f32 where
// |y| is near 1, so large |x| would lose every significant digit of a small gradient.
fn sigmoid_grad(x: f32) -> f32 {
  let e = exp(-abs(x));
  return e / ((1.0 + e) * (1.0 + e));
}
fn tanh_grad(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  return 4.0 * t / ((1.0 + t) * (1.0 + t));
}
`;

export const UNARY_OPS = {
  neg: { forward: '-x', derivative: '-dy' },
  exp: { forward: 'exp(x)', derivative: 'dy * y' },
  log: { forward: 'log(x)', derivative: 'dy / x' },
  sqrt: { forward: 'sqrt(x)', derivative: 'dy * 0.5 / y' },
  square: { forward: 'x * x', derivative: 'dy * 2.0 * x' },
  sigmoid: { forward: 'sigmoid_(x)', derivative: 'dy * sigmoid_grad(x)' },
  silu: { forward: 'x * sigmoid_(x)', derivative: 'dy * sigmoid_(x) * (1.0 + x * (1.0 - sigmoid_(x)))' },
  tanh: { forward: 'tanh_(x)', derivative: 'dy * tanh_grad(x)' },
  /** clamp to [a, b]; the gradient passes where x is inside. */
  clamp: { forward: 'clamp(x, params.a, params.b)', derivative: 'select(0.0, dy, x >= params.a && x <= params.b)' },
  /** y = a·x + b: the scalar add/sub/mul/div variants. */
  affine: { forward: 'params.a * x + params.b', derivative: 'params.a * dy' },
} satisfies Record<string, UnaryDef>;

export type UnaryOp = keyof typeof UNARY_OPS;

/**
 * vec4s per invocation of the vec4 kernels, unrolled. Strided (a GPU): invocation idx takes idx,
 * idx + stride, … (stride = the invocation count), so neighbouring invocations read neighbouring
 * vec4s; on SwiftShader add_4m's kernel went 21.5 → 16.2–16.6 ms of GPU time at 4 (2:
 * 16.0–21.8, 3: 16.2–16.6; a loop instead of unrolled: 19.2–19.6). Contiguous (a CPU):
 * invocation idx takes the run 4·idx … 4·idx + 3, the last run shifted back to end at the last
 * vec4 (it recomputes a few of its neighbour's outputs, the same values: outputs never alias
 * inputs), so no run needs a bounds branch: add_4m's kernel 16.7–18.8 → 12.6–13.8 ms in Chromium
 * (8 or 16 per run: 20–22 ms).
 */
export const VEC4_PER_INVOCATION = 4;

const UNARY_UNIFORMS = { count: 'u32', stride: 'u32', a: 'f32', b: 'f32' } as const;
const unaryOp = comptime.oneOf(Object.keys(UNARY_OPS) as UnaryOp[]);

const VEC4 = { access: 'read', type: 'vec4<f32>' } as const;
const VEC4_OUT = { access: 'read_write', type: 'vec4<f32>' } as const;
const COMPONENTS = ['x', 'y', 'z', 'w'] as const;

/**
 * Reads each input variable from its binding at idx (as f32) and writes `expr` of them to `out`
 * (as `store`: Elem for the forward kernels). With vec4 bindings the scalar expression runs once
 * per component (the variable `x` is then component c of `x4`).
 */
function mapBody(
  k: { main: string; mainClamped: string },
  inputs: readonly (readonly [variable: string, binding: string])[],
  out: string,
  expr: string,
  vec4: { contiguous: boolean } | null,
  store: 'Elem' | 'f32',
): string {
  if (!vec4) return `${k.main}\n${inputs.map(([v, b]) => `  let ${v} = f32(${b}[idx]);`).join('\n')}\n  ${out}[idx] = ${store}(${expr});`;
  const names = inputs.map(([v]) => v);
  const lanes = COMPONENTS.map((c) => `    { ${names.map((n) => `let ${n} = ${n}4.${c};`).join(' ')} r.${c} = ${expr}; }`);
  return vec4Runs(k, vec4.contiguous, `${inputs.map(([v, b]) => `    let ${v}4 = vec4<f32>(${b}[i]);`).join('\n')}\n    var r: vec4<f32>;\n${lanes.join('\n')}\n    ${out}[i] = vec4<${store}>(r);`);
}

/**
 * The entry point and `body` (in terms of the vec4 index `i`) for each of an invocation's
 * VEC4_PER_INVOCATION vec4s, strided or as one contiguous run (VEC4_PER_INVOCATION above).
 */
function vec4Runs(k: { main: string; mainClamped: string }, contiguous: boolean, body: string): string {
  const runs = Array.from({ length: VEC4_PER_INVOCATION }, (_, j) =>
    contiguous
      ? `  {\n    let i = min(base + ${j}u, params.count - 1u);\n${body}\n  }`
      : `  {\n    let i = idx + ${j}u * params.stride;\n    if (i < params.count) {\n${body}\n    }\n  }`,
  );
  const entry = contiguous
    ? `${k.mainClamped}\n  let base = min(idx * ${VEC4_PER_INVOCATION}u, max(params.count, ${VEC4_PER_INVOCATION}u) - ${VEC4_PER_INVOCATION}u);`
    : k.main;
  return `${entry}\n${runs.join('\n')}`;
}

/** The invocation count (and `stride` uniform) of a vec4 kernel over `quads` vec4s. */
export const vec4Invocations = (quads: number): number => Math.ceil(quads / VEC4_PER_INVOCATION);

/** The unary forward body: y = f(x). */
const unaryForwardBody = (k: BodyContext<never>, op: UnaryOp, vec4: { contiguous: boolean } | null): string =>
  `${HELPERS}\n${mapBody(k, [['x', 'xs']], 'ys', UNARY_OPS[op].forward, vec4, 'Elem')}\n}`;
/** The unary derivative body: dx = f'(x)·dy from the forward input x and output y. */
const unaryGradBody = (k: BodyContext<never>, op: UnaryOp, vec4: { contiguous: boolean } | null): string =>
  `${HELPERS}\n${mapBody(k, [['x', 'xs'], ['y', 'ysOut'], ['dy', 'dys']], 'dxs', UNARY_OPS[op].derivative, vec4, 'f32')}\n}`;

export const unaryKernel = defineKernel({
  name: 'unary',
  uniforms: UNARY_UNIFORMS,
  bindings: { xs: ELEM_IN, ys: ELEM_OUT },
  specialise: { op: unaryOp },
  workgroupSize: ELEMENTWISE_WORKGROUP,
  invocations: 'stride',
  body: ({ op }, k) => unaryForwardBody(k, op, null),
});

export const unaryGradKernel = defineKernel({
  name: 'unary-grad',
  uniforms: UNARY_UNIFORMS,
  bindings: { xs: 'read', ysOut: 'read', dys: 'read', dxs: 'read_write' },
  specialise: { op: unaryOp },
  workgroupSize: ELEMENTWISE_WORKGROUP,
  invocations: 'stride',
  body: ({ op }, k) => unaryGradBody(k, op, null),
});

/**
 * The `-vec4` forms, for tensors whose size is a multiple of 4 (`count` counts vec4s): a quarter
 * of the invocations and 16-byte loads (2x faster on SwiftShader at 4M elements, and what a GPU's
 * memory system wants); `contiguous` picks the runs' layout (VEC4_PER_INVOCATION).
 */
export const unaryVec4Kernel = defineKernel({
  name: 'unary-vec4',
  uniforms: UNARY_UNIFORMS,
  bindings: { xs: ELEM4_IN, ys: ELEM4_OUT },
  specialise: { op: unaryOp, contiguous: comptime.bool() },
  workgroupSize: ELEMENTWISE_WORKGROUP,
  invocations: 'stride',
  body: ({ op, contiguous }, k) => unaryForwardBody(k, op, { contiguous }),
});

export const unaryGradVec4Kernel = defineKernel({
  name: 'unary-grad-vec4',
  uniforms: UNARY_UNIFORMS,
  bindings: { xs: VEC4, ysOut: VEC4, dys: VEC4, dxs: VEC4_OUT },
  specialise: { op: unaryOp, contiguous: comptime.bool() },
  workgroupSize: ELEMENTWISE_WORKGROUP,
  invocations: 'stride',
  body: ({ op, contiguous }, k) => unaryGradBody(k, op, { contiguous }),
});

export const BINARY_OPS = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
} as const;
export type BinaryOp = keyof typeof BINARY_OPS;

/**
 * out = a ∘ b. `rank` 0: all three share one shape (plain indexing); otherwise a and b are read
 * through strides (0 along broadcast axes) over an index space of that rank.
 */
export const binaryKernel = defineKernel({
  name: 'binary',
  uniforms: { outShape: 'dims', aStrides: 'dims', bStrides: 'dims', rank: 'u32', count: 'u32' },
  bindings: { as_: ELEM_IN, bs: ELEM_IN, out: ELEM_OUT },
  specialise: { op: comptime.oneOf(Object.keys(BINARY_OPS) as BinaryOp[]), rank: comptime.int(0, MAX_RANK) },
  workgroupSize: ELEMENTWISE_WORKGROUP,
  invocations: 'count',
  body: ({ op, rank }, k) => {
    const addressing =
      rank > 0
        ? `var ia = 0u;
  var ib = 0u;
  ${unrolledOffsets(rank, 'outShape', 'idx', [['ia', 'aStrides'], ['ib', 'bStrides']])}`
        : `let ia = idx;
  let ib = idx;`;
    return `${k.main}
  ${addressing}
  let a = f32(as_[ia]);
  let b = f32(bs[ib]);
  out[idx] = Elem(${BINARY_OPS[op]});
}`;
  },
});

export const fillKernel = defineKernel({
  name: 'fill',
  uniforms: { count: 'u32', value: 'f32' },
  bindings: { out: 'read_write' },
  workgroupSize: ELEMENTWISE_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${k.main}
  out[idx] = params.value;
}`,
});

/** out = a ∘ b for three tensors of one shape whose size is a multiple of 4 (`count` counts vec4s). */
export const binaryVec4Kernel = defineKernel({
  name: 'binary-vec4',
  uniforms: { count: 'u32', stride: 'u32' },
  bindings: { as_: ELEM4_IN, bs: ELEM4_IN, out: ELEM4_OUT },
  specialise: { op: comptime.oneOf(Object.keys(BINARY_OPS) as BinaryOp[]), contiguous: comptime.bool() },
  workgroupSize: ELEMENTWISE_WORKGROUP,
  invocations: 'stride',
  body: ({ op, contiguous }, k) => `${vec4Runs(k, contiguous, `    let a = vec4<f32>(as_[i]);\n    let b = vec4<f32>(bs[i]);\n    out[i] = vec4<Elem>(${BINARY_OPS[op]});`)}
}`,
});
