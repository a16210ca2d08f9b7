// A model's plan: the layer table (name, type, output shape, parameters, FLOPs) and the
// activation elements a training step keeps alive until backward, gathered without a GPU by
// running the model's own forward on a shape-only backend (`planBackend`): what the table lists
// is what the network computes.

import { broadcastShapes, conv2dOutputShape, fmt, type Shape, sizeOf } from '../../engine/index.ts';
import type { Backend } from './backend.ts';
import type { Module, Parameter } from './module.ts';

export interface PlanRow {
  name: string;
  type: string;
  outShape: number[];
  params: number;
  flops: number;
  /** Depth in the module tree: blocks at 0, their layers at 1. */
  depth: number;
}

export class ModelPlan {
  readonly rows: PlanRow[] = [];
  /** Elements of every intermediate a forward pass creates (all live until backward). */
  activationElements = 0;
  /**
   * Elements of the largest single tensor a training step binds: a layer output, or attention's
   * scores (queries × keys) where the engine materialises them.
   */
  largestElements = 0;

  get totalFlops(): number {
    return this.rows.filter((r) => r.depth === 0).reduce((n, r) => n + r.flops, 0);
  }
}

/** A value on the plan backend: its shape, and the parameter it is, when it is one. */
export interface ShapeInfo {
  readonly shape: readonly number[];
  readonly param?: Parameter;
}

/**
 * The shape-only backend: each op computes its output shape (with the engine's own shape rules,
 * e.g. conv2dOutputShape), its FLOPs and the activation elements it keeps for backward, and
 * writes them to `plan`. Conv, linear, group norm, attention, upsampling and the timestep
 * embedding are rows, named after the module running them (`root`'s state-dict names); the other
 * ops only count memory. Reshapes are views (no memory); every other op's output is counted,
 * attention's also with its softmax statistics (one value per query row).
 */
export function planBackend(root: Module, plan: ModelPlan): Backend<ShapeInfo> {
  const names = new Map<Module, string>([[root, ''], ...[...root.namedModules()].map(([name, m]) => [m, name] as const)]);
  const scopes: string[] = [''];
  let depth = 0;
  const here = (op?: string) => {
    const scope = scopes[scopes.length - 1]!;
    return op === undefined ? scope : scope ? `${scope}.${op}` : op;
  };
  const value = (shape: Shape, activations = sizeOf(shape)): ShapeInfo => {
    plan.activationElements += activations;
    plan.largestElements = Math.max(plan.largestElements, sizeOf(shape));
    return { shape: [...shape] };
  };
  const row = (name: string, type: string, shape: Shape, params: ShapeInfo[], flops: number, activations = sizeOf(shape)) => {
    const count = params.reduce((n, p) => n + (p.param?.size ?? 0), 0);
    plan.rows.push({ name, type, outShape: [...shape], params: count, flops, depth });
    return value(shape, activations);
  };
  const fail = (message: string): never => {
    throw new Error(`plan${here() ? ` (${here()})` : ''}: ${message}`);
  };

  return {
    module: (m, body) => {
      const name = names.get(m);
      if (name === undefined) fail('a module that is not part of the planned model');
      const label = m.blockLabel();
      const at = plan.rows.length;
      scopes.push(name!);
      if (label !== null) depth++;
      const result = body();
      if (label !== null) depth--;
      scopes.pop();
      if (label !== null) {
        const flops = plan.rows.slice(at).reduce((n, r) => n + (r.depth === depth + 1 ? r.flops : 0), 0);
        plan.rows.splice(at, 0, { name: name!, type: label, outShape: [...result.shape], params: m.parameterCount(), flops, depth });
      }
      return result;
    },
    param: (p) => ({ shape: p.shape, param: p }),
    shape: (x) => x.shape,
    conv2d: (x, w, b, o) => {
      const out = conv2dOutputShape(x.shape, w.shape, o);
      // The epilogue's addend makes no tensor of its own.
      if (o.add && broadcastShapes('conv2d add', out, o.add.shape).join() !== out.join()) fail(`conv2d: add ${fmt(o.add.shape)} does not fit the output ${fmt(out)}`);
      const [, cin, kh, kw] = w.shape as [number, number, number, number];
      const type = `Conv2d ${kh}x${kw}${o.stride > 1 ? ` s${o.stride}` : ''}`;
      return row(here(), type, out, [w, b], 2 * sizeOf(out) * cin * kh * kw);
    },
    groupNorm: (x, gamma, beta, o) =>
      row(here(), `GroupNorm${o.silu ? '+SiLU' : ''}${o.dropout ? '+Dropout' : ''}`, x.shape, [gamma, beta], 0),
    linear: (x, w, b) => {
      const [outFeatures, inFeatures] = w.shape as [number, number];
      if (x.shape[x.shape.length - 1] !== inFeatures) fail(`linear: x ${fmt(x.shape)} does not match w ${fmt(w.shape)}`);
      const out = [...x.shape.slice(0, -1), outFeatures];
      return row(here(), 'Linear', out, [w, b], 2 * sizeOf(out) * inFeatures);
    },
    silu: (x) => value(x.shape),
    add: (a, b) => value(broadcastShapes('add', a.shape, b.shape)),
    affine: (x) => value(x.shape),
    slice: (x, axis, start, end) => {
      if (!(axis >= 0 && axis < x.shape.length && start >= 0 && start < end && end <= x.shape[axis]!)) fail(`slice: [${start}, ${end}) of axis ${axis} of ${fmt(x.shape)}`);
      return value(x.shape.map((d, i) => (i === axis ? end - start : d)));
    },
    concat: (xs, axis) => {
      const first = xs[0]!.shape;
      const same = xs.every((x) => x.shape.length === first.length && x.shape.every((d, i) => i === axis || d === first[i]));
      if (!same) fail(`concat: shapes ${xs.map((x) => fmt(x.shape)).join(', ')} differ off axis ${axis}`);
      return value(first.map((d, i) => (i === axis ? xs.reduce((n, x) => n + x.shape[i]!, 0) : d)));
    },
    reshape: (x, shape) => {
      if (sizeOf(shape) !== sizeOf(x.shape)) fail(`reshape: ${fmt(x.shape)} cannot become ${fmt(shape)}`);
      return value(shape, 0);
    },
    permute: (x, perm) => value(perm.map((axis) => x.shape[axis]!)),
    attention: (q, k, v) => {
      const d = q.shape[q.shape.length - 1]!;
      const [S, dv] = v.shape.slice(-2) as [number, number];
      if (k.shape[k.shape.length - 2] !== S || k.shape[k.shape.length - 1] !== d) {
        fail(`attention: q ${fmt(q.shape)}, k ${fmt(k.shape)} and v ${fmt(v.shape)} do not match`);
      }
      const rows = sizeOf(q.shape.slice(0, -1));
      plan.largestElements = Math.max(plan.largestElements, rows * S);
      const out = [...q.shape.slice(0, -1), dv];
      return row(here('attention'), 'softmax(qkᵀ/√d)v', out, [], 2 * rows * S * (d + dv), sizeOf(out) + rows);
    },
    upsampleNearest2x: (x) => {
      const [n, c, h, w] = x.shape as [number, number, number, number];
      return row(here('upsample'), 'nearest x2', [n, c, 2 * h, 2 * w], [], 0);
    },
    timestepEmbedding: (t, dim) => row(here('time_proj'), `sinusoidal(${dim})`, [t.shape[0]!, dim], [], 0),
    dropout: (x) => value(x.shape),
  };
}
