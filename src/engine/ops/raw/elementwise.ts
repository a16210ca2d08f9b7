// Non-recording launchers: what forward passes and backward rules encode; they record nothing on the tape.

import { binaryKernel, binaryVec4Kernel, unaryKernel, unaryVec4Kernel, vec4Invocations, type BinaryOp, type UnaryOp } from '../../../shaders/elementwise.ts';
import { collapseDims } from '../../collapse.ts';
import { broadcastShapes, broadcastStrides, sameShape, stridesOf } from '../../shape.ts';
import { emptyTensor, type Tensor } from '../../tensor.ts';
import { runtime } from '../../runtime.ts';
import { launch } from '../launch.ts';

/** y = op(x) (with the uniforms a, b), not recorded. */
export function unaryRaw(op: UnaryOp, x: Tensor, a: number, b: number): Tensor {
  const out = emptyTensor(x.shape, op, x.dtype);
  if (x.size % 4 === 0) launch(unaryVec4Kernel, { op, contiguous: runtime().tuning.elementwiseContiguous }, { xs: x, ys: out }, { count: x.size / 4, stride: vec4Invocations(x.size / 4), a, b });
  else launch(unaryKernel, { op }, { xs: x, ys: out }, { count: x.size, stride: x.size, a, b });
  return out;
}

/** a ∘ b with numpy broadcasting, not recorded. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = emptyTensor(shape, op, a.dtype);
  const plain = sameShape(a.shape, shape) && sameShape(b.shape, shape);
  const c = collapseDims(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape), stridesOf(shape)]);
  const rank = plain ? 0 : c.shape.length;
  if (plain && out.size % 4 === 0) {
    launch(binaryVec4Kernel, { op, contiguous: runtime().tuning.elementwiseContiguous }, { as_: a, bs: b, out }, { count: out.size / 4, stride: vec4Invocations(out.size / 4) });
    return out;
  }
  launch(
    binaryKernel,
    { op, rank },
    { as_: a, bs: b, out },
    { outShape: c.shape, aStrides: c.strides[0]!, bStrides: c.strides[1]!, rank, count: out.size },
  );
  return out;
}
