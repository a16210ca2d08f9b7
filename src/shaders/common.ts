// WGSL helpers that kernel bodies share: the index arithmetic for shapes passed as `dims`
// uniforms, and the folded 1-D grid. Declarations (uniforms, bindings, keys): ./kernel.ts.

/** Tensors up to this rank are handled by the generic (strided) kernels. */
export const MAX_RANK = 8;

/** WGSL: read entry i of a `dims` uniform. */
export const DIMS_ACCESSOR = /* wgsl */ `
fn dimAt(v: array<vec4<u32>, ${MAX_RANK / 4}>, i: u32) -> u32 { return v[i / 4u][i % 4u]; }
`;

/** Workgroup grid for `workgroups` 1-D workgroups, folded under the per-dimension limit. */
export function foldedGrid(workgroups: number, maxPerDim = 65535): [number, number, number] {
  if (workgroups <= maxPerDim) return [Math.max(1, workgroups), 1, 1];
  const y = Math.ceil(workgroups / maxPerDim);
  const x = Math.ceil(workgroups / y);
  return [x, y, 1];
}

const COMPONENT = ['x', 'y', 'z', 'w'] as const;

/** WGSL for entry `d` (a compile-time index) of a `dims` uniform: a static vector access. */
export function dimRef(field: string, d: number): string {
  return `params.${field}[${Math.floor(d / 4)}].${COMPONENT[d % 4]}`;
}

/**
 * WGSL that splits the linear index `indexExpr` over a `dims` shape of compile-time `rank` and
 * accumulates `offsets[k] += coordinate · strides_k` for each (offset variable, strides field).
 * Unrolled with static uniform accesses: dynamic indexing and loops cost a lot on SwiftShader.
 */
export function unrolledOffsets(rank: number, shapeField: string, indexExpr: string, offsets: readonly [string, string][]): string {
  const lines = [`var rest = ${indexExpr};`];
  for (let d = rank - 1; d >= 0; d--) {
    const n = dimRef(shapeField, d);
    const c = `c${d}`;
    lines.push(d > 0 ? `let ${c} = rest % ${n}; rest = rest / ${n};` : `let ${c} = rest;`);
    for (const [variable, strides] of offsets) lines.push(`${variable} += ${c} * ${dimRef(strides, d)};`);
  }
  return lines.join('\n  ');
}

/**
 * WGSL `sigmoid_(x)`: branch-free (one exp, no divergent lanes); exp(−x) is capped below f32
 * overflow, which only changes σ(x) where it is below 1.8e-35.
 */
export const SIGMOID_WGSL = /* wgsl */ `
fn sigmoid_(x: f32) -> f32 { return 1.0 / (1.0 + exp(min(-x, 80.0))); }
`;
