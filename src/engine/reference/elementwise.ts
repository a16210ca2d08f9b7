// Float64 references for the elementwise ops: forward and vector-Jacobian product.

import { refMap, refSumTo, refZip, type Ref } from './ndarray.ts';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Each unary op: value and derivative at x. */
export const REF_UNARY: Record<string, { f: (x: number) => number; df: (x: number) => number }> = {
  neg: { f: (x) => -x, df: () => -1 },
  exp: { f: Math.exp, df: Math.exp },
  log: { f: Math.log, df: (x) => 1 / x },
  sqrt: { f: Math.sqrt, df: (x) => 0.5 / Math.sqrt(x) },
  square: { f: (x) => x * x, df: (x) => 2 * x },
  sigmoid: { f: sigmoid, df: (x) => sigmoid(x) * (1 - sigmoid(x)) },
  silu: { f: (x) => x * sigmoid(x), df: (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x))) },
  tanh: { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 },
};

export function refUnary(op: string, x: Ref): Ref {
  const def = REF_UNARY[op];
  if (!def) throw new Error(`no reference for unary op ${op}`);
  return refMap(x, def.f);
}

export function refUnaryVjp(op: string, x: Ref, gy: Ref): Ref {
  const def = REF_UNARY[op]!;
  return refMap(x, (v, i) => def.df(v) * gy.data[i]!);
}

export const refClamp = (x: Ref, low: number, high: number): Ref => refMap(x, (v) => Math.min(high, Math.max(low, v)));
export const refClampVjp = (x: Ref, gy: Ref, low: number, high: number): Ref =>
  refMap(x, (v, i) => (v >= low && v <= high ? gy.data[i]! : 0));

export const refAffine = (x: Ref, scale: number, shift: number): Ref => refMap(x, (v) => scale * v + shift);
export const refAffineVjp = (gy: Ref, scale: number): Ref => refMap(gy, (g) => scale * g);

type Binary = 'add' | 'sub' | 'mul' | 'div';
const BINARY: Record<Binary, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

export function refBinary(op: Binary, a: Ref, b: Ref): Ref {
  return refZip(a, b, BINARY[op]);
}

/** Partial derivatives at (a, b), summed back over broadcast axes. */
export function refBinaryVjp(op: Binary, a: Ref, b: Ref, gy: Ref): [Ref, Ref] {
  const da: Record<Binary, (a: number, b: number) => number> = {
    add: () => 1,
    sub: () => 1,
    mul: (_, y) => y,
    div: (_, y) => 1 / y,
  };
  const db: Record<Binary, (a: number, b: number) => number> = {
    add: () => 1,
    sub: () => -1,
    mul: (x) => x,
    div: (x, y) => -x / (y * y),
  };
  const fullA = refZip(refZip(a, b, da[op]), gy, (d, g) => d * g);
  const fullB = refZip(refZip(a, b, db[op]), gy, (d, g) => d * g);
  return [refSumTo(fullA, a.shape), refSumTo(fullB, b.shape)];
}
