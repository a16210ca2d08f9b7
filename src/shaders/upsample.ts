// Nearest-neighbour upsampling ×2 of [N, C, H, W] planes and its backward. Both kernels run one
// thread per INPUT element (i, j): the forward writes its 2×2 output block, the backward sums it.

import { UniformLayout, declareBindings, linearMain, type KernelSpec, type StorageBinding } from './common.ts';

export const UPSAMPLE_WORKGROUP = 256;

export const upsampleUniforms = new UniformLayout([
  { name: 'height', type: 'u32' },
  { name: 'width', type: 'u32' },
  /** N·C·H·W: the input elements. */
  { name: 'count', type: 'u32' },
]);

/** Defines `o`, the output index of the block's top-left corner, and `ow`, the output width. */
const BLOCK_CORNER = /* wgsl */ `
  let plane = params.height * params.width;
  let p = idx / plane;
  let r = idx % plane;
  let ow = 2u * params.width;
  let o = 4u * p * plane + 2u * (r / params.width) * ow + 2u * (r % params.width);`;

function spec(key: string, storage: StorageBinding[], body: string): KernelSpec {
  const code = `${declareBindings(upsampleUniforms, storage)}
${linearMain(UPSAMPLE_WORKGROUP, 'params.count')}
${BLOCK_CORNER}
${body}
}`;
  return { key, code, storage, uniforms: upsampleUniforms, workgroupSize: UPSAMPLE_WORKGROUP };
}

/** out[n, c, 2i + a, 2j + b] = x[n, c, i, j]. */
export function upsampleNearest2xKernel(): KernelSpec {
  return spec(
    'upsample-nearest2x',
    [
      { name: 'xs', access: 'read' },
      { name: 'ys', access: 'read_write' },
    ],
    `  let v = xs[idx];
  ys[o] = v;
  ys[o + 1u] = v;
  ys[o + ow] = v;
  ys[o + ow + 1u] = v;`,
  );
}

/** dx[n, c, i, j] = Σ over a, b ∈ {0, 1} of dy[n, c, 2i + a, 2j + b]. */
export function upsampleNearest2xGradKernel(): KernelSpec {
  return spec(
    'upsample-nearest2x-grad',
    [
      { name: 'dys', access: 'read' },
      { name: 'dxs', access: 'read_write' },
    ],
    `  dxs[idx] = (dys[o] + dys[o + 1u]) + (dys[o + ow] + dys[o + ow + 1u]);`,
  );
}
