// Kernel declarations. Each kernel is declared once with `defineKernel`: its name, typed
// uniforms, named storage bindings (access mode, element type, optional or not), compile-time
// specialisation constants, workgroup size and WGSL body. From that one declaration this module
// derives the WGSL header (the `Params` struct and the bindings present in a specialisation), the
// bind-group layout and the pipeline cache key; src/engine/ops/launch.ts launches a kernel with
// its buffers and uniforms passed by name, typed from the declaration.

import { MAX_RANK } from './common.ts';

// ---- uniforms ------------------------------------------------------------------------------

/** A uniform field: a scalar, or a vector of up to MAX_RANK u32 (shapes and strides). */
export type UniformType = 'u32' | 'i32' | 'f32' | 'dims';
export type UniformDecls = { readonly [field: string]: UniformType };
export type UniformValue<T extends UniformType> = T extends 'dims' ? readonly number[] : number;
/** The values a launch passes: every declared field, nothing else. */
export type UniformValues<U extends UniformDecls> = { readonly [K in keyof U]: UniformValue<U[K]> };
/** The u32 fields of U (what may count a 1-D kernel's invocations). */
export type U32Field<U extends UniformDecls> = { [K in keyof U]: U[K] extends 'u32' ? K : never }[keyof U] & string;

const DIMS_BYTES = 16 * (MAX_RANK / 4);

/**
 * The layout of a kernel's `Params` uniform struct. `dims` fields come first (16-byte aligned
 * arrays of vec4<u32>), scalars after, so offsets follow WGSL's rules without padding logic.
 */
export class UniformLayout {
  readonly fields: readonly { name: string; type: UniformType; offset: number }[];
  readonly byteSize: number;
  private readonly names: ReadonlySet<string>;

  /** `kernel` names the owner in error messages. */
  constructor(
    readonly kernel: string,
    decls: UniformDecls,
  ) {
    const entries = Object.entries(decls);
    const ordered = [...entries.filter(([, t]) => t === 'dims'), ...entries.filter(([, t]) => t !== 'dims')];
    let offset = 0;
    this.fields = ordered.map(([name, type]) => {
      const field = { name, type, offset };
      offset += type === 'dims' ? DIMS_BYTES : 4;
      return field;
    });
    this.byteSize = Math.max(16, Math.ceil(offset / 16) * 16);
    this.names = new Set(entries.map(([name]) => name));
  }

  /** The WGSL struct declaration, in the same order as the packed bytes. */
  wgslStruct(name = 'Params'): string {
    const lines = this.fields.map((f) =>
      f.type === 'dims' ? `  ${f.name}: array<vec4<u32>, ${MAX_RANK / 4}>,` : `  ${f.name}: ${f.type},`,
    );
    if (lines.length === 0) lines.push('  unused: u32,');
    return `struct ${name} {\n${lines.join('\n')}\n}`;
  }

  /** Throws, naming the kernel and the field, unless `values` has exactly the declared fields. */
  check(values: object): void {
    for (const name of Object.keys(values)) {
      if (!this.names.has(name)) {
        throw new Error(`kernel '${this.kernel}': unknown uniform '${name}' (it declares ${[...this.names].join(', ') || 'none'})`);
      }
    }
    const record = values as Readonly<Record<string, unknown>>;
    for (const f of this.fields) {
      const v = record[f.name];
      if (v === undefined) throw new Error(`kernel '${this.kernel}': uniform '${f.name}' has no value`);
      if (f.type === 'dims') {
        if (!Array.isArray(v)) throw new Error(`kernel '${this.kernel}': uniform '${f.name}' must be an array of dims`);
        if (v.length > MAX_RANK) throw new Error(`kernel '${this.kernel}': uniform '${f.name}' has rank ${v.length} > ${MAX_RANK}`);
      } else if (typeof v !== 'number') {
        throw new Error(`kernel '${this.kernel}': uniform '${f.name}' must be a number, got ${typeof v}`);
      }
    }
  }

  /** Writes the values into `view` at `base`; every field must be given. */
  pack(values: object, view: DataView, base: number): void {
    const record = values as Readonly<Record<string, number | readonly number[] | undefined>>;
    for (const f of this.fields) {
      const v = record[f.name];
      if (v === undefined) throw new Error(`kernel '${this.kernel}': uniform '${f.name}' has no value`);
      const at = base + f.offset;
      if (f.type === 'dims') {
        const arr = v as readonly number[];
        if (arr.length > MAX_RANK) throw new Error(`kernel '${this.kernel}': uniform '${f.name}' has rank ${arr.length} > ${MAX_RANK}`);
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

// ---- storage bindings ----------------------------------------------------------------------

export type BufferAccess = 'read' | 'read_write';
/**
 * `Elem` is the storage type of the tensors a launch binds there: f32, or f16 for sampling (the
 * header enables f16 and aliases `Elem`; bodies load through `f32(…)`/`vec4<f32>(…)` and store
 * through `Elem(…)`/`vec4<Elem>(…)`, so arithmetic stays f32). It is part of the pipeline key.
 */
export type ElementType = 'f32' | 'u32' | 'i32' | 'vec4<f32>' | 'Elem' | 'vec4<Elem>';
/** What `Elem` stands for in one specialisation. */
export type ElemType = 'f32' | 'f16';
/** Bindings of the forward kernels' tensors: f32, or f16 when sampling in half precision. */
export const ELEM_IN = { access: 'read', type: 'Elem' } as const;
export const ELEM_OUT = { access: 'read_write', type: 'Elem' } as const;
export const ELEM4_IN = { access: 'read', type: 'vec4<Elem>' } as const;
export const ELEM4_OUT = { access: 'read_write', type: 'vec4<Elem>' } as const;
/**
 * A storage binding: its access mode, element type (f32 unless stated), and whether a launch may
 * leave it out. An absent optional binding is dropped from that specialisation's WGSL (the body
 * asks `k.has.name`), and its presence is part of the pipeline key.
 */
export interface BindingDecl {
  readonly access: BufferAccess;
  readonly type?: ElementType;
  readonly optional?: boolean;
}
/** 'read' and 'read_write' are shorthands for required f32 bindings. */
export type BindingDecls = { readonly [name: string]: BufferAccess | BindingDecl };

type IsOptional<D> = D extends { readonly optional: true } ? true : false;
export type RequiredBinding<B extends BindingDecls> = { [K in keyof B]: IsOptional<B[K]> extends true ? never : K }[keyof B];
export type OptionalBinding<B extends BindingDecls> = Exclude<keyof B, RequiredBinding<B>>;
/** The buffers a launch passes, by binding name: the required ones, and optional ones or null. */
export type BindingArgs<B extends BindingDecls, T> = { readonly [K in RequiredBinding<B>]: T } & {
  readonly [K in OptionalBinding<B>]?: T | null;
};

interface StorageBinding {
  readonly name: string;
  readonly access: BufferAccess;
  readonly type: ElementType;
  readonly optional: boolean;
}

// ---- specialisation constants ----------------------------------------------------------------

export type SpecValue = number | boolean | string;

/** A compile-time parameter: which values it takes. Part of the pipeline key. */
export interface SpecParam<T extends SpecValue> {
  /** For error messages: e.g. "an integer in [0, 8]". */
  readonly describe: string;
  readonly accepts: (value: unknown) => boolean;
  /** Type only: the parameter's value type. */
  readonly __value?: T;
}
export type SpecDecls = { readonly [name: string]: SpecParam<SpecValue> };
export type SpecValues<S extends SpecDecls> = { readonly [K in keyof S]: S[K] extends SpecParam<infer T> ? T : never };

/** Constructors of specialisation constants (burn's `#[comptime]`). */
export const comptime = {
  int(min: number, max: number): SpecParam<number> {
    return {
      describe: `an integer in [${min}, ${max}]`,
      accepts: (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
    };
  },
  bool(): SpecParam<boolean> {
    return { describe: 'true or false', accepts: (v) => typeof v === 'boolean' };
  },
  oneOf<const T extends string>(values: readonly T[]): SpecParam<T> {
    return {
      describe: `one of ${values.map((v) => `'${v}'`).join(', ')}`,
      accepts: (v) => (values as readonly unknown[]).includes(v),
    };
  },
};

// ---- declaration ---------------------------------------------------------------------------

export type WorkgroupSize = number | readonly [number, number, number];

/** What a kernel's body is generated with, besides its specialisation values. */
export interface BodyContext<B extends BindingDecls> {
  /** `@compute @workgroup_size(…)`, from the declared workgroup size. */
  readonly entry: string;
  /**
   * 1-D kernels (with `invocations`): the entry point header; it defines `idx` and returns past
   * the invocation count. The body closes its brace.
   */
  readonly main: string;
  /**
   * 1-D kernels: `main` without the early return. `idx` is clamped to the last item and `live`
   * says whether the invocation has one of its own (write only when live). For kernels with a
   * loop: SwiftShader merges every value a loop carries, per lane, at each pass of a loop that
   * runs under a branch (an early return is one).
   */
  readonly mainClamped: string;
  /** Which optional bindings this specialisation has. */
  readonly has: { readonly [K in OptionalBinding<B>]: boolean };
}

export interface KernelDeclaration<
  U extends UniformDecls,
  B extends BindingDecls,
  S extends SpecDecls,
  C extends U32Field<U> | undefined,
> {
  /** Unique among kernels: the first part of every pipeline key. */
  readonly name: string;
  readonly uniforms: U;
  /** Storage bindings in binding order (1..n, after the uniforms at 0). */
  readonly bindings: B;
  /** Compile-time parameters; each specialisation is its own pipeline. */
  readonly specialise?: S;
  readonly workgroupSize: WorkgroupSize;
  /**
   * For a 1-D kernel: the u32 uniform that counts its invocations. The launch derives the
   * (folded) grid from it and `main` returns past it; without it the launch passes a grid.
   */
  readonly invocations?: C;
  /**
   * WGSL extensions a specialisation enables (`enable subgroups;` heads its code); the device
   * must have the matching feature, which the caller's tuning checks (src/engine/tuning.ts).
   */
  readonly extensions?: (spec: SpecValues<S>) => readonly WgslExtension[];
  /** The WGSL after the header (helpers and entry point). */
  readonly body: (spec: SpecValues<S>, k: BodyContext<B>) => string;
}

/** WGSL `enable` extensions a kernel may use (f16 is enabled by an f16 `Elem`). */
export type WgslExtension = 'subgroups';

/** One specialisation, ready to compile: what the dispatcher builds a pipeline from. */
export interface KernelVariant {
  readonly key: string;
  readonly code: string;
  /** Present storage bindings in binding order (binding i + 1). */
  readonly storage: readonly { readonly name: string; readonly access: BufferAccess }[];
  readonly uniforms: UniformLayout;
}

/** A launch resolved against a declaration: the pipeline key, buffers in binding order. */
export interface PreparedLaunch<T> {
  readonly key: string;
  readonly buffers: T[];
  readonly build: () => KernelVariant;
}

/** WGSL: `linearMain` without the early return; `idx` clamped to the last item, `live` below the count. */
function linearMainClamped(workgroupSize: number, countExpr: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let item = gid.x + gid.y * nwg.x * ${workgroupSize}u;
  let live = item < ${countExpr};
  let idx = min(item, ${countExpr} - 1u);`;
}

/**
 * WGSL: the entry point of a 1-D kernel over `countExpr` items, folded into a 2-D grid when it
 * needs more than 65535 workgroups. Defines `idx` (the item) and returns early past the end.
 */
function linearMain(workgroupSize: number, countExpr: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * ${workgroupSize}u;
  if (idx >= ${countExpr}) { return; }`;
}

export class Kernel<
  U extends UniformDecls,
  B extends BindingDecls,
  S extends SpecDecls,
  Linear extends boolean,
> {
  /** Type only: carries the declaration's types to `launch`. */
  declare readonly __types?: { uniforms: U; bindings: B; spec: S; linear: Linear };
  readonly name: string;
  readonly uniforms: UniformLayout;
  readonly storage: readonly StorageBinding[];
  readonly workgroupSize: readonly [number, number, number];
  /** The uniform counting a 1-D kernel's invocations; null for kernels launched over a grid. */
  readonly invocations: string | null;
  private readonly params: readonly (readonly [string, SpecParam<SpecValue>])[];
  private readonly optional: readonly StorageBinding[];
  private readonly byName: ReadonlyMap<string, StorageBinding>;
  private readonly body: (spec: never, k: BodyContext<B>) => string;
  private readonly extensions: (spec: never) => readonly WgslExtension[];
  /** Bindings of type Elem or vec4<Elem>: the launch's tensors there give `Elem`. */
  readonly elemBindings: readonly string[];

  constructor(decl: KernelDeclaration<U, B, S, U32Field<U> | undefined>) {
    this.name = decl.name;
    if (!/^[A-Za-z0-9_:.-]+$/.test(this.name)) throw new Error(`defineKernel: invalid kernel name '${this.name}'`);
    this.uniforms = new UniformLayout(decl.name, decl.uniforms);
    this.storage = Object.entries(decl.bindings).map(([name, d]) =>
      typeof d === 'string'
        ? { name, access: d, type: 'f32', optional: false }
        : { name, access: d.access, type: d.type ?? 'f32', optional: d.optional ?? false },
    );
    this.optional = this.storage.filter((b) => b.optional);
    this.elemBindings = this.storage.filter((b) => b.type === 'Elem' || b.type === 'vec4<Elem>').map((b) => b.name);
    this.byName = new Map(this.storage.map((b) => [b.name, b]));
    const wg = decl.workgroupSize;
    this.workgroupSize = typeof wg === 'number' ? [wg, 1, 1] : [wg[0], wg[1], wg[2]];
    this.invocations = decl.invocations ?? null;
    if (this.invocations !== null) {
      if (decl.uniforms[this.invocations] !== 'u32') {
        throw new Error(`defineKernel '${this.name}': invocations '${this.invocations}' is not a u32 uniform`);
      }
      if (typeof wg !== 'number') throw new Error(`defineKernel '${this.name}': a 1-D kernel has a 1-D workgroup size`);
    }
    this.params = Object.entries(decl.specialise ?? {});
    this.body = decl.body as (spec: never, k: BodyContext<B>) => string;
    this.extensions = (decl.extensions ?? (() => [])) as (spec: never) => readonly WgslExtension[];
  }

  /** Validates `spec` against the declared specialisation constants. */
  private checkSpec(spec: object): void {
    const record = spec as Readonly<Record<string, unknown>>;
    for (const name of Object.keys(spec)) {
      if (!this.params.some(([p]) => p === name)) {
        throw new Error(
          `kernel '${this.name}': unknown specialisation constant '${name}' (it declares ${this.params.map(([p]) => p).join(', ') || 'none'})`,
        );
      }
    }
    for (const [name, param] of this.params) {
      const v = record[name];
      if (v === undefined) throw new Error(`kernel '${this.name}': specialisation constant '${name}' has no value`);
      if (!param.accepts(v)) throw new Error(`kernel '${this.name}': specialisation constant '${name}' must be ${param.describe}, got ${String(v)}`);
    }
  }

  /**
   * Resolves a launch: validates the specialisation values and the buffers (names, required
   * ones present), orders the buffers by binding and derives the pipeline key, which is the
   * kernel's name, each specialisation value, each optional binding present and an f16 `Elem`.
   */
  prepare<T>(spec: object, buffers: object, elem: ElemType = 'f32'): PreparedLaunch<T> {
    this.checkSpec(spec);
    if (elem !== 'f32' && this.elemBindings.length === 0) throw new Error(`kernel '${this.name}' has no Elem bindings: it runs in f32 only`);
    const given = buffers as Readonly<Record<string, T | null | undefined>>;
    for (const name of Object.keys(buffers)) {
      if (!this.byName.has(name)) {
        throw new Error(`kernel '${this.name}': unknown binding '${name}' (it declares ${this.storage.map((b) => b.name).join(', ')})`);
      }
    }
    const ordered: T[] = [];
    for (const b of this.storage) {
      const buffer = given[b.name];
      if (buffer === undefined || buffer === null) {
        if (!b.optional) throw new Error(`kernel '${this.name}': binding '${b.name}' has no buffer`);
      } else {
        ordered.push(buffer);
      }
    }
    const present = this.optional.filter((b) => given[b.name] !== undefined && given[b.name] !== null);
    const parts = [
      ...this.params.map(([name]) => `${name}=${String((spec as Record<string, unknown>)[name])}`),
      ...present.map((b) => `+${b.name}`),
      ...(elem === 'f16' ? ['elem=f16'] : []),
    ];
    const key = parts.length > 0 ? `${this.name}[${parts.join(',')}]` : this.name;
    const presentNames = new Set(present.map((b) => b.name));
    return { key, buffers: ordered, build: () => this.variant(key, spec, presentNames, elem) };
  }

  /** The WGSL of one specialisation: the derived header, then the body. */
  private variant(key: string, spec: object, present: ReadonlySet<string>, elem: ElemType): KernelVariant {
    const storage = this.storage.filter((b) => !b.optional || present.has(b.name));
    const header = [
      ...(elem === 'f16' ? ['enable f16;'] : []),
      ...this.extensions(spec as never).map((e) => `enable ${e};`),
      ...(this.elemBindings.length > 0 ? [`alias Elem = ${elem};`] : []),
      this.uniforms.wgslStruct(),
      '@group(0) @binding(0) var<uniform> params: Params;',
      ...storage.map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type}>;`),
    ].join('\n');
    const [x, y, z] = this.workgroupSize;
    const entry = `@compute @workgroup_size(${y === 1 && z === 1 ? x : `${x}, ${y}, ${z}`})`;
    const invocations = this.invocations;
    const name = this.name;
    const has = Object.fromEntries(this.optional.map((b) => [b.name, present.has(b.name)]));
    const context: BodyContext<B> = {
      entry,
      get main(): string {
        if (invocations === null) throw new Error(`kernel '${name}': 'main' is for 1-D kernels (declare 'invocations')`);
        return linearMain(x, `params.${invocations}`);
      },
      get mainClamped(): string {
        if (invocations === null) throw new Error(`kernel '${name}': 'mainClamped' is for 1-D kernels (declare 'invocations')`);
        return linearMainClamped(x, `params.${invocations}`);
      },
      has: has as BodyContext<B>['has'],
    };
    const code = `${header}\n${this.body(spec as never, context)}`;
    return { key, code, storage: storage.map(({ name, access }) => ({ name, access })), uniforms: this.uniforms };
  }

  /** The WGSL of one specialisation, for tests and inspection. */
  wgsl(spec: SpecValues<S>, present: readonly OptionalBinding<B>[] = [], elem: ElemType = 'f32'): string {
    const names = new Set<string>(present as readonly string[]);
    const buffers = Object.fromEntries(this.storage.filter((b) => !b.optional || names.has(b.name)).map((b) => [b.name, b.name]));
    return this.prepare<string>(spec, buffers, elem).build().code;
  }
}

/** Declares a kernel; see KernelDeclaration. Launch it with `launch` (src/engine/ops/launch.ts). */
export function defineKernel<
  const U extends UniformDecls,
  const B extends BindingDecls,
  const S extends SpecDecls = Record<never, never>,
  const C extends U32Field<U> | undefined = undefined,
>(decl: KernelDeclaration<U, B, S, C>): Kernel<U, B, S, C extends string ? true : false> {
  return new Kernel<U, B, S, C extends string ? true : false>(decl as KernelDeclaration<U, B, S, U32Field<U> | undefined>);
}

/** Bind-group layout entries of a variant: the uniforms at 0, then its storage bindings. */
export function bindGroupLayoutEntries(variant: KernelVariant): GPUBindGroupLayoutEntry[] {
  return [
    // The uniform slot's offset is dynamic, so one bind group serves every slot of a chunk.
    { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
    ...variant.storage.map(
      (b, i): GPUBindGroupLayoutEntry => ({
        binding: i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' },
      }),
    ),
  ];
}
