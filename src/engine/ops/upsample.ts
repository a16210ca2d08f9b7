// upsampleNearest2x: nearest-neighbour ×2 upsampling of NCHW images (PyTorch's
// F.interpolate(scale_factor=2, mode='nearest')), and its backward (2×2 block sums).
// Kernels: src/shaders/upsample.ts. Reference: src/engine/reference/upsample.ts.
// Checks: src/engine/checks/upsample.ts.

import { upsampleNearest2xGradKernel, upsampleNearest2xKernel } from '../../shaders/upsample.ts';
import { record } from '../tape.ts';
import { fmt } from '../shape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';

/** x [N, C, H, W] → [N, C, 2H, 2W] with out[n, c, 2i + a, 2j + b] = x[n, c, i, j]. */
export function upsampleNearest2x(x: Tensor): Tensor {
  assertTensor('upsampleNearest2x', 'x', x);
  if (x.rank !== 4) throw new Error(`upsampleNearest2x: x ${fmt(x.shape)} must be [N, C, H, W]`);
  const [n, c, height, width] = x.shape as [number, number, number, number];
  const uniforms = { height, width, count: x.size };
  const y = emptyTensor([n, c, 2 * height, 2 * width], 'upsampleNearest2x', x.dtype);
  launch(upsampleNearest2xKernel, {}, { xs: x, ys: y }, uniforms);
  return record(y, 'upsampleNearest2x', [x], (dy) => {
    const dx = emptyTensor(x.shape, 'upsampleNearest2x-grad');
    launch(upsampleNearest2xGradKernel, {}, { dys: dy, dxs: dx }, uniforms);
    return [dx];
  });
}
