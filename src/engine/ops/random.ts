// Random tensors drawn on the GPU from counter-based streams (src/shaders/random.ts):
// the same (seed, counter) gives the same values as the CPU `Rng`, up to f32 rounding.

import { randomKernel, type RandomKind } from '../../shaders/random.ts';
import { mapScalar, type Scalar } from '../live.ts';
import { assertValidShape, type Shape } from '../shape.ts';
import { emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';

export interface RandomStream {
  /** Live in a captured training step: each replay draws from the step's own seed. */
  seed: Scalar;
  /** First counter used; a draw of n normals consumes 2n counters, n uniforms n. */
  counter?: number;
}

function draw(kind: RandomKind, shape: Shape, stream: RandomStream, a: number, b: number): Tensor {
  assertValidShape(`random ${kind}`, shape);
  const out = emptyTensor(shape, `random-${kind}`);
  launch(
    randomKernel,
    { kind },
    { out },
    { count: out.size, seed: mapScalar(stream.seed, (s) => s >>> 0), counter: (stream.counter ?? 0) >>> 0, a, b },
  );
  return out;
}

/** mean + std·N(0, 1). */
export function randomNormal(shape: Shape, stream: RandomStream, mean = 0, std = 1): Tensor {
  return draw('normal', shape, stream, mean, std);
}

/** U(low, high). */
export function randomUniform(shape: Shape, stream: RandomStream, low = 0, high = 1): Tensor {
  return draw('uniform', shape, stream, low, high);
}

/** Integers uniform in [0, n), as f32 values (exact below 2^24). */
export function randomInteger(shape: Shape, stream: RandomStream, n: number): Tensor {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 24) throw new Error(`randomInteger: n must be an integer in [1, 2^24], got ${n}`);
  return draw('integer', shape, stream, n, 0);
}
