// Elementwise ops: unary maps, scalar variants, and broadcasting add/sub/mul/div.
// Kernels: src/shaders/elementwise.ts. Reference: src/engine/reference/elementwise.ts.
// Checks: src/engine/checks/elementwise.ts.

import { unaryGradKernel, unaryGradVec4Kernel, vec4Invocations, type BinaryOp, type UnaryOp } from '../../shaders/elementwise.ts';
import { runtime } from '../runtime.ts';
import { record } from '../tape.ts';
import { sameShape } from '../shape.ts';
import { assertSameDtype, assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';
import { binaryRaw, unaryRaw } from './raw/elementwise.ts';
import { sumToRaw } from './raw/reduce.ts';

function unaryGrad(op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, a: number, b: number): Tensor {
  const dx = emptyTensor(x.shape, `${op}-grad`);
  const buffers = { xs: x, ysOut: y, dys: dy, dxs: dx };
  if (x.size % 4 === 0) launch(unaryGradVec4Kernel, { op, contiguous: runtime().tuning.elementwiseContiguous }, buffers, { count: x.size / 4, stride: vec4Invocations(x.size / 4), a, b });
  else launch(unaryGradKernel, { op }, buffers, { count: x.size, stride: x.size, a, b });
  return dx;
}

/** Applies a unary map with its derivative recorded for backward. */
function unary(op: UnaryOp, x: Tensor, a = 1, b = 0): Tensor {
  assertTensor(op, 'x', x);
  const y = unaryRaw(op, x, a, b);
  return record(y, op, [x], (dy) => [unaryGrad(op, x, y, dy, a, b)]);
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const silu = (x: Tensor): Tensor => unary('silu', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);

function assertScalar(op: string, s: number): void {
  if (typeof s !== 'number' || !Number.isFinite(s)) throw new Error(`${op}: scalar must be a finite number, got ${s}`);
}

/** x limited to [low, high]. */
export function clamp(x: Tensor, low: number, high: number): Tensor {
  assertScalar('clamp', low);
  assertScalar('clamp', high);
  if (low > high) throw new Error(`clamp: low ${low} is above high ${high}`);
  return unary('clamp', x, low, high);
}

/** y = scale·x + shift in one kernel. */
export function affine(x: Tensor, scale: number, shift: number): Tensor {
  assertScalar('affine', scale);
  assertScalar('affine', shift);
  return unary('affine', x, scale, shift);
}
export const addScalar = (x: Tensor, s: number): Tensor => (assertScalar('addScalar', s), affine(x, 1, s));
export const subScalar = (x: Tensor, s: number): Tensor => (assertScalar('subScalar', s), affine(x, 1, -s));
export const mulScalar = (x: Tensor, s: number): Tensor => (assertScalar('mulScalar', s), affine(x, s, 0));
export function divScalar(x: Tensor, s: number): Tensor {
  assertScalar('divScalar', s);
  if (s === 0) throw new Error('divScalar: division by zero');
  return affine(x, 1 / s, 0);
}

function binary(op: BinaryOp, a: Tensor, b: Tensor, grads: (g: Tensor, out: Tensor) => [Tensor, Tensor]): Tensor {
  assertTensor(op, 'a', a);
  assertTensor(op, 'b', b);
  assertSameDtype(op, { a, b });
  const out = binaryRaw(op, a, b);
  return record(out, op, [a, b], (g) => {
    const [ga, gb] = grads(g, out);
    return [reduceGrad(ga, a, g), reduceGrad(gb, b, g)];
  });
}

/** Sums a broadcast gradient back to the input's shape (disposing the full-size one). */
function reduceGrad(g: Tensor, input: Tensor, upstream: Tensor): Tensor {
  if (sameShape(g.shape, input.shape)) return g;
  const reduced = sumToRaw(g, input.shape);
  if (g !== upstream) g.dispose();
  return reduced;
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return addScalar(a, b);
  return binary('add', a, b, (g) => [g, g]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return subScalar(a, b);
  return binary('sub', a, b, (g) => [g, unaryRaw('neg', g, 1, 0)]);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return mulScalar(a, b);
  return binary('mul', a, b, (g) => [binaryRaw('mul', g, b), binaryRaw('mul', g, a)]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return divScalar(a, b);
  // d(a/b)/db = -(a/b)/b = -out/b
  return binary('div', a, b, (g, out) => {
    const ga = binaryRaw('div', g, b);
    const q = binaryRaw('div', out, b);
    const gb = binaryRaw('mul', g, q);
    q.dispose();
    const ngb = unaryRaw('neg', gb, 1, 0);
    gb.dispose();
    return [ga, ngb];
  });
}
