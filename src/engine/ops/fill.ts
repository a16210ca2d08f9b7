// fill: a tensor of one value, made on the GPU (no upload).

import { ELEMENTWISE_WORKGROUP, fillKernel } from '../../shaders/elementwise.ts';
import { assertValidShape, type Shape } from '../shape.ts';
import { emptyTensor, type Tensor } from '../tensor.ts';
import { launchLinear } from './launch.ts';

export function fill(shape: Shape, value: number): Tensor {
  assertValidShape('fill', shape);
  const out = emptyTensor(shape, 'fill');
  launchLinear('fill', fillKernel, { count: out.size, value }, [out.buffer], out.size, ELEMENTWISE_WORKGROUP);
  return out;
}

export const ones = (shape: Shape): Tensor => fill(shape, 1);
