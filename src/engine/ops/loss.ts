// Losses built from the elementwise and reduction ops (their gradients follow by autodiff).
// Reference: src/engine/reference/loss.ts. Checks: src/engine/checks/loss.ts.

import { fmt, sameShape } from '../shape.ts';
import { assertTensor, type Tensor } from '../tensor.ts';
import { square, sub } from './elementwise.ts';
import { mean } from './reduce.ts';

/** mean((pred − target)²) over every element, as PyTorch's F.mse_loss (mean reduction). */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  assertTensor('mseLoss', 'pred', pred);
  assertTensor('mseLoss', 'target', target);
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`mseLoss: pred ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
  return mean(square(sub(pred, target)));
}
