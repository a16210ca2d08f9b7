// Nearest-neighbour upsampling ×2 of [N, C, H, W] planes and its backward. Both kernels run one
// thread per INPUT element (i, j): the forward writes its 2×2 output block, the backward sums it.

import { defineKernel, ELEM_IN, ELEM_OUT } from './kernel.ts';

export const UPSAMPLE_WORKGROUP = 256;

const UPSAMPLE_UNIFORMS = {
  height: 'u32',
  width: 'u32',
  /** N·C·H·W: the input elements. */
  count: 'u32',
} as const;

/** Defines `o`, the output index of the block's top-left corner, and `ow`, the output width. */
const BLOCK_CORNER = /* wgsl */ `
  let plane = params.height * params.width;
  let p = idx / plane;
  let r = idx % plane;
  let ow = 2u * params.width;
  let o = 4u * p * plane + 2u * (r / params.width) * ow + 2u * (r % params.width);`;

/** out[n, c, 2i + a, 2j + b] = x[n, c, i, j]. */
export const upsampleNearest2xKernel = defineKernel({
  name: 'upsample-nearest2x',
  uniforms: UPSAMPLE_UNIFORMS,
  bindings: { xs: ELEM_IN, ys: ELEM_OUT },
  workgroupSize: UPSAMPLE_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${k.main}
${BLOCK_CORNER}
  let v = xs[idx];
  ys[o] = v;
  ys[o + 1u] = v;
  ys[o + ow] = v;
  ys[o + ow + 1u] = v;
}`,
});

/** dx[n, c, i, j] = Σ over a, b ∈ {0, 1} of dy[n, c, 2i + a, 2j + b]. */
export const upsampleNearest2xGradKernel = defineKernel({
  name: 'upsample-nearest2x-grad',
  uniforms: UPSAMPLE_UNIFORMS,
  bindings: { dys: 'read', dxs: 'read_write' },
  workgroupSize: UPSAMPLE_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${k.main}
${BLOCK_CORNER}
  dxs[idx] = (dys[o] + dys[o + 1u]) + (dys[o + ow] + dys[o + ow + 1u]);
}`,
});
