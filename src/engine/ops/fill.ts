// fill: a tensor of one value, made on the GPU (no upload).

import { fillKernel } from '../../shaders/elementwise.ts';
import { assertValidShape, type Shape } from '../shape.ts';
import { emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';

export function fill(shape: Shape, value: number): Tensor {
  assertValidShape('fill', shape);
  const out = emptyTensor(shape, 'fill');
  launch(fillKernel, {}, { out }, { count: out.size, value });
  return out;
}

export const ones = (shape: Shape): Tensor => fill(shape, 1);
