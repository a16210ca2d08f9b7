// cast: a tensor's values in another element type (f32 ↔ f16; sampling in f16 casts its input
// and output). Its gradient is the upstream gradient cast back, the one gradient that crosses
// dtypes. Kernels: src/shaders/cast.ts. Reference: src/engine/reference/cast.ts.
// Checks: src/engine/checks/cast.ts.

import { castToFloatKernel, castToHalfKernel } from '../../shaders/cast.ts';
import { DTYPES, type DType } from '../dtype.ts';
import { record } from '../tape.ts';
import { assertTensor, emptyTensor, viewOf, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';

/** cast without recording; a view of x when it already has that dtype. */
export function castRaw(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return viewOf(x, x.shape, 'cast');
  const out = emptyTensor(x.shape, 'cast', dtype);
  const uniforms = { pairs: Math.ceil(x.size / 2), count: x.size };
  if (dtype === 'f16') launch(castToHalfKernel, {}, { src: x, dst: out }, uniforms);
  else launch(castToFloatKernel, {}, { src: x, dst: out }, uniforms);
  return out;
}

/** x's values as `dtype` (to f16: rounded to nearest, beyond ±65504 clamped). */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertTensor('cast', 'x', x);
  if (!DTYPES.includes(dtype)) throw new Error(`cast: dtype must be one of ${DTYPES.join(', ')}, got ${String(dtype)}`);
  const out = castRaw(x, dtype);
  return record(out, 'cast', [x], (g) => [castRaw(g, x.dtype)]);
}
