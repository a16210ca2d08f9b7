// The float64 reference backend: the same network code run on the CPU through the reference
// ops, with a minimal tape of their vector-Jacobian products, to check the GPU model end to end.

import {
  type Ref,
  refAffine,
  refAffineVjp,
  refArray,
  refAttention,
  refAttentionVjp,
  refBinary,
  refBinaryVjp,
  refConcat,
  refConcatVjp,
  refConv2d,
  refConv2dVjp,
  refDropout,
  refDropoutVjp,
  refGroupNorm,
  refGroupNormVjp,
  refInversePerm,
  refLinear,
  refLinearVjp,
  refPermute,
  refReshape,
  refSlice,
  refSliceVjp,
  refTimestepEmbedding,
  refTimestepEmbeddingVjp,
  refUnary,
  refUnaryVjp,
  refUpsampleNearest2x,
  refUpsampleNearest2xVjp,
} from '../../engine/reference/index.ts';
import { valueOf } from '../../engine/index.ts';
import type { Backend } from './backend.ts';
import type { Parameter } from './module.ts';

/** A float64 value on the reference tape. */
export class RefVar {
  grad: Ref | null = null;
  constructor(
    readonly value: Ref,
    readonly parents: readonly RefVar[] = [],
    readonly vjp: ((g: Ref) => (Ref | null)[]) | null = null,
  ) {}
}

function node(value: Ref, parents: RefVar[], vjp: (g: Ref) => (Ref | null)[]): RefVar {
  return new RefVar(value, parents, vjp);
}

/** dropout(x, p, seed), recorded. */
function dropoutNode(x: RefVar, p: number, seed: number): RefVar {
  return node(refDropout(x.value, p, seed), [x], (g) => [refDropoutVjp(g, p, seed)]);
}

/** a + b (broadcast), recorded. */
function addNodes(a: RefVar, b: RefVar): RefVar {
  return node(refBinary('add', a.value, b.value), [a, b], (g) => refBinaryVjp('add', a.value, b.value, g));
}

function accumulate(v: RefVar, g: Ref): void {
  if (!v.grad) v.grad = { shape: [...v.value.shape], data: g.data.slice() };
  else for (let i = 0; i < g.data.length; i++) v.grad.data[i] += g.data[i]!;
}

/** Back-propagates `gy` from `out` through the tape (reverse topological order). */
export function refBackward(out: RefVar, gy: Ref): void {
  const order: RefVar[] = [];
  const seen = new Set<RefVar>();
  const visit = (v: RefVar) => {
    if (seen.has(v)) return;
    seen.add(v);
    v.parents.forEach(visit);
    order.push(v);
  };
  visit(out);
  accumulate(out, gy);
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i]!;
    if (!v.vjp || !v.grad) continue;
    v.vjp(v.grad).forEach((g, k) => g && accumulate(v.parents[k]!, g));
  }
}

/** A reference backend whose parameters are `values` (name → float64 values) of `named`. */
export function referenceBackend(named: Map<Parameter, RefVar>): Backend<RefVar> {
  return {
    module: (_m, body) => body(),
    param: (p) => {
      const v = named.get(p);
      if (!v) throw new Error('reference backend: unknown parameter');
      return v;
    },
    shape: (x) => x.value.shape,
    conv2d: (x, w, b, o) => {
      const y = node(refConv2d(x.value, w.value, b.value, o), [x, w, b], (g) => refConv2dVjp(x.value, w.value, b.value, g, o));
      return o.add ? addNodes(y, o.add) : y;
    },
    groupNorm: (x, gamma, beta, o) => {
      const y = node(refGroupNorm(x.value, gamma.value, beta.value, o), [x, gamma, beta], (g) =>
        refGroupNormVjp(x.value, gamma.value, beta.value, g, o),
      );
      return o.dropout ? dropoutNode(y, o.dropout.p, valueOf(o.dropout.seed)) : y;
    },
    linear: (x, w, b) =>
      node(refLinear(x.value, w.value, b.value), [x, w, b], (g) => refLinearVjp(x.value, w.value, b.value, g)),
    silu: (x) => node(refUnary('silu', x.value), [x], (g) => [refUnaryVjp('silu', x.value, g)]),
    add: (a, b) => addNodes(a, b),
    affine: (x, scale, shift) => node(refAffine(x.value, scale, shift), [x], (g) => [refAffineVjp(g, scale)]),
    slice: (x, axis, start, end) =>
      node(refSlice(x.value, axis, start, end), [x], (g) => [refSliceVjp(x.value.shape, axis, start, g)]),
    concat: (xs, axis) =>
      node(refConcat(xs.map((x) => x.value), axis), xs, (g) => refConcatVjp(xs.map((x) => x.value), axis, g)),
    reshape: (x, shape) => node(refReshape(x.value, shape), [x], (g) => [refReshape(g, x.value.shape)]),
    permute: (x, perm) => node(refPermute(x.value, perm), [x], (g) => [refPermute(g, refInversePerm(perm))]),
    attention: (q, k, v) => {
      const scale = 1 / Math.sqrt(q.value.shape[q.value.shape.length - 1]!);
      return node(refAttention(q.value, k.value, v.value, scale), [q, k, v], (g) =>
        refAttentionVjp(q.value, k.value, v.value, g, scale),
      );
    },
    upsampleNearest2x: (x) => node(refUpsampleNearest2x(x.value), [x], (g) => [refUpsampleNearest2xVjp(x.value, g)]),
    timestepEmbedding: (t, dim, o) => {
      const opts = { ...o, maxPeriod: 10000 };
      return node(refTimestepEmbedding(t.value, dim, opts), [t], (g) => [refTimestepEmbeddingVjp(t.value, dim, opts, g)]);
    },
    dropout: (x, p, seed) => dropoutNode(x, p, valueOf(seed)),
  };
}

export function refVar(shape: readonly number[], data: ArrayLike<number>): RefVar {
  return new RefVar(refArray(shape, data));
}
