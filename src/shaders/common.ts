// Typed helpers that every kernel generator shares: the uniform struct and its packer,
// binding declarations, and the index arithmetic for shapes passed as uniforms.

/** Tensors up to this rank are handled by the generic (strided) kernels. */
export const MAX_RANK = 8;

/** A uniform field: a scalar, or a vector of up to MAX_RANK u32 (shapes and strides). */
export type UniformType = 'u32' | 'i32' | 'f32' | 'dims';
export interface UniformField {
  name: string;
  type: UniformType;
}
export type UniformValues = Record<string, number | readonly number[]>;

const DIMS_BYTES = 16 * (MAX_RANK / 4);

/**
 * The layout of a kernel's `Params` uniform struct. `dims` fields come first (16-byte aligned
 * arrays of vec4<u32>), scalars after, so offsets follow WGSL's rules without padding logic.
 */
export class UniformLayout {
  readonly fields: readonly (UniformField & { offset: number })[];
  readonly byteSize: number;

  constructor(fields: readonly UniformField[]) {
    const dims = fields.filter((f) => f.type === 'dims');
    const scalars = fields.filter((f) => f.type !== 'dims');
    let offset = 0;
    const placed: (UniformField & { offset: number })[] = [];
    for (const f of dims) {
      placed.push({ ...f, offset });
      offset += DIMS_BYTES;
    }
    for (const f of scalars) {
      placed.push({ ...f, offset });
      offset += 4;
    }
    this.fields = placed;
    this.byteSize = Math.max(16, Math.ceil(offset / 16) * 16);
  }

  /** The WGSL struct declaration, in the same order as the packed bytes. */
  wgslStruct(name = 'Params'): string {
    const lines = this.fields.map((f) =>
      f.type === 'dims' ? `  ${f.name}: array<vec4<u32>, ${MAX_RANK / 4}>,` : `  ${f.name}: ${f.type},`,
    );
    if (lines.length === 0) lines.push('  unused: u32,');
    return `struct ${name} {\n${lines.join('\n')}\n}`;
  }

  /** Writes the values into `view` at `base`; every field must be given. */
  pack(values: UniformValues, view: DataView, base: number): void {
    for (const f of this.fields) {
      const v = values[f.name];
      if (v === undefined) throw new Error(`uniform '${f.name}' has no value`);
      const at = base + f.offset;
      if (f.type === 'dims') {
        const arr = v as readonly number[];
        if (arr.length > MAX_RANK) throw new Error(`uniform '${f.name}' has rank ${arr.length} > ${MAX_RANK}`);
        for (let i = 0; i < MAX_RANK; i++) view.setUint32(at + 4 * i, i < arr.length ? arr[i]! : 0, true);
      } else if (f.type === 'f32') {
        view.setFloat32(at, v as number, true);
      } else if (f.type === 'i32') {
        view.setInt32(at, v as number, true);
      } else {
        view.setUint32(at, v as number, true);
      }
    }
  }
}

export type BufferAccess = 'read' | 'read_write';
export interface StorageBinding {
  name: string;
  access: BufferAccess;
  /** WGSL element type; f32 unless stated. */
  type?: string;
}

/** A kernel ready to compile: its cache key, WGSL, bindings and uniforms. */
export interface KernelSpec {
  key: string;
  code: string;
  /** Storage bindings in binding order, after the uniform struct at binding 0. */
  storage: readonly StorageBinding[];
  uniforms: UniformLayout;
  workgroupSize: number;
}

/** Declares `params` at binding 0 and the storage buffers at 1..n. */
export function declareBindings(uniforms: UniformLayout, storage: readonly StorageBinding[]): string {
  const lines = [uniforms.wgslStruct(), '@group(0) @binding(0) var<uniform> params: Params;'];
  storage.forEach((b, i) => {
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type ?? 'f32'}>;`);
  });
  return lines.join('\n');
}

/** WGSL: read entry i of a `dims` uniform. */
export const DIMS_ACCESSOR = /* wgsl */ `
fn dimAt(v: array<vec4<u32>, ${MAX_RANK / 4}>, i: u32) -> u32 { return v[i / 4u][i % 4u]; }
`;

/**
 * Entry point header for a 1-D kernel over `count` items, folded into a 2-D grid when it
 * needs more than 65535 workgroups. Defines `idx` (the item) and returns early past the end.
 */
export function linearMain(workgroupSize: number, countExpr: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * ${workgroupSize}u;
  if (idx >= ${countExpr}) { return; }`;
}

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
