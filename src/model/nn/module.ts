// Module: a tree of named parameters (a state dict) and sub-modules.
// Parameters are declared with their shape and initialiser and created on the GPU by
// `build(seed)`, so a model can be planned (layer table, counts, memory) without a device.

import { fmt, ParameterArena, Rng, type Shape, sizeOf, type Tensor } from '../../engine/index.ts';

/** How a parameter starts: PyTorch's default U(±1/sqrt(fan_in)), zeros or ones. */
export type Init = { kind: 'uniform-fan-in'; fanIn: number } | { kind: 'zeros' } | { kind: 'ones' };

export class Parameter {
  private tensorRef: Tensor | null = null;
  constructor(
    readonly shape: Shape,
    readonly init: Init,
  ) {}

  get size(): number {
    return sizeOf(this.shape);
  }

  /** The GPU tensor; the module must have been built. */
  get value(): Tensor {
    if (!this.tensorRef) throw new Error(`parameter ${fmt(this.shape)} is not on the GPU: call model.build(seed) first`);
    return this.tensorRef;
  }

  get built(): boolean {
    return this.tensorRef !== null;
  }

  /** Attaches the GPU tensor (a view into the model's arena). */
  attach(t: Tensor): void {
    if (t.shape.length !== this.shape.length || t.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`parameter ${fmt(this.shape)} cannot take a tensor of shape ${fmt(t.shape)}`);
    }
    if (this.tensorRef && this.tensorRef !== t) this.tensorRef.dispose();
    t.requiresGrad = true;
    t.keep();
    this.tensorRef = t;
  }

  initialValues(rng: Rng): Float32Array {
    const out = new Float32Array(this.size);
    if (this.init.kind === 'ones') out.fill(1);
    else if (this.init.kind === 'uniform-fan-in') {
      const bound = 1 / Math.sqrt(this.init.fanIn);
      for (let i = 0; i < out.length; i++) out[i] = bound * (2 * rng.uniform() - 1);
    }
    return out;
  }

  dispose(): void {
    this.tensorRef?.dispose();
    this.tensorRef = null;
  }
}

export abstract class Module {
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();
  training = true;
  /** Where the parameters live once built: one buffer, one region each. */
  arena: ParameterArena | null = null;
  /** The arena buffer holding the parameter values. */
  valuesBuffer: GPUBuffer | null = null;
  /** The layout of `valuesBuffer` when it belongs to another module (see viewOver). */
  private arenaView: ParameterArena | null = null;

  protected param(name: string, shape: Shape, init: Init): Parameter {
    const p = new Parameter(shape, init);
    this.ownParams.set(name, p);
    return p;
  }

  protected child<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** Every parameter with its dotted name (diffusers' state-dict keys), in declaration order. */
  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    for (const [name, p] of this.ownParams) yield [prefix + name, p];
    for (const [name, m] of this.children) yield* m.namedParameters(`${prefix}${name}.`);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    for (const [name, m] of this.children) {
      yield [prefix + name, m];
      yield* m.namedModules(`${prefix}${name}.`);
    }
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /**
   * A block's one-line summary, e.g. `ResnetBlock2D(128→256)`: the plan shows a block as one row
   * over its layers' rows. Null (the default) lists the module's layers without a row of its own.
   */
  blockLabel(): string | null {
    return null;
  }

  /**
   * Creates every parameter on the GPU, in one arena, from a seeded generator (same seed, same
   * weights).
   */
  build(seed: number): this {
    if (this.arena) throw new Error('this module is already built');
    const named = [...this.namedParameters()];
    const arena = new ParameterArena(named.map(([name, p]) => ({ name, shape: p.shape })));
    const values = arena.createBuffer('parameters');
    const rng = new Rng(seed);
    named.forEach(([, p], i) => arena.upload(values, i, p.initialValues(rng)));
    arena.tensorsOver(values, 'parameter').forEach((t, i) => named[i]![1].attach(t));
    this.arena = arena;
    this.valuesBuffer = values;
    return this;
  }

  /**
   * Uses `buffer` (laid out by `arena`, e.g. another model's EMA weights) as this module's
   * parameters, without copying; the buffer stays owned by whoever made it.
   */
  viewOver(arena: ParameterArena, buffer: GPUBuffer): this {
    const named = [...this.namedParameters()];
    const mismatch = named.length !== arena.entries.length || named.some(([n, p], i) => arena.entries[i]!.name !== n || arena.entries[i]!.size !== p.size);
    if (mismatch) throw new Error('viewOver: the arena was laid out for a different module');
    arena.tensorsOver(buffer, 'parameter-view').forEach((t, i) => named[i]![1].attach(t));
    this.valuesBuffer = buffer;
    this.arenaView = arena;
    return this;
  }

  /** Name → values of every parameter (reads the GPU). */
  async stateDict(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, p] of this.namedParameters()) out.set(name, { shape: [...p.shape], data: await p.value.read() });
    return out;
  }

  /**
   * Loads values by name. Every parameter must be present with its exact shape; nothing is
   * written unless all are.
   */
  loadStateDict(values: Map<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
    const arena = this.arena ?? this.arenaView;
    if (!arena || !this.valuesBuffer) throw new Error('loadStateDict: build the module first');
    const named = [...this.namedParameters()];
    const problems: string[] = [];
    for (const [name, p] of named) {
      const v = values.get(name);
      if (!v) problems.push(`missing '${name}'`);
      else if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
        problems.push(`'${name}' has shape ${fmt(v.shape)}, the model needs ${fmt(p.shape)}`);
      }
    }
    const known = new Set(named.map(([n]) => n));
    for (const name of values.keys()) if (!known.has(name)) problems.push(`unexpected '${name}'`);
    if (problems.length > 0) {
      throw new Error(`loadStateDict: ${problems.length} problem(s): ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? '; …' : ''}`);
    }
    named.forEach(([name], i) => arena.upload(this.valuesBuffer!, i, Float32Array.from(values.get(name)!.data)));
  }

  /** Training mode (dropout active) or evaluation mode, recursively. */
  train(on = true): this {
    this.training = on;
    for (const m of this.children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    this.arena?.destroy();
    this.arena = null;
    this.arenaView = null;
    this.valuesBuffer = null;
  }
}
