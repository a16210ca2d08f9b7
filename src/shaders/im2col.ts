// conv2d's input unfolded into the columns of a matmul (im2col), for the weight gradient of a
// small image: dW [Cout, Cin·kh·kw] = dy's rows [Cout, N·outH·outW] · colsᵀ, one matmul whose K
// is every tap of every image (src/engine/ops/conv2d.ts, convWeightGradByMatmul).

import { comptime, defineKernel } from './kernel.ts';

/** Output widths up to this are unrolled (a specialisation); wider rows loop. */
export const IM2COL_MAX_UNROLLED_WIDTH = 16;

export const IM2COL_WORKGROUP = 256;

/**
 * cols[(ci, ky, kx), (n, oy, ox)] = x[n, ci, oy·stride + ky − padT, ox·stride + kx − padL], 0
 * outside the image: one invocation per output row (ci, ky, kx, n, oy), its outW columns
 * unrolled (or a loop past IM2COL_MAX_UNROLLED_WIDTH), so the index divisions (slow on
 * SwiftShader: per lane) happen once per row.
 */
export const im2colKernel = defineKernel({
  name: 'im2col',
  uniforms: {
    batch: 'u32',
    channels: 'u32',
    height: 'u32',
    width: 'u32',
    kernelH: 'u32',
    kernelW: 'u32',
    outH: 'u32',
    outW: 'u32',
    stride: 'u32',
    padT: 'u32',
    padL: 'u32',
    /** Rows of outW columns: Cin·kh·kw·N·outH. */
    count: 'u32',
  },
  bindings: { xs: 'read', cols: 'read_write' },
  /** outW when it is at most IM2COL_MAX_UNROLLED_WIDTH (the columns unrolled: no loop-carried values), else 0. */
  specialise: { unrolledWidth: comptime.int(0, IM2COL_MAX_UNROLLED_WIDTH) },
  workgroupSize: IM2COL_WORKGROUP,
  invocations: 'count',
  body: ({ unrolledWidth }, k) => `${k.main}
  let oy = idx % params.outH;
  var rest = idx / params.outH;
  let n = rest % params.batch;
  rest = rest / params.batch;
  let kx = rest % params.kernelW;
  rest = rest / params.kernelW;
  let ky = rest % params.kernelH;
  let ci = rest / params.kernelH;
  let y = i32(oy * params.stride + ky) - i32(params.padT);
  let rowOk = u32(y) < params.height;
  let srcRow = ((n * params.channels + ci) * params.height + select(0u, u32(y), rowOk)) * params.width;
  let width = params.width;
  let stride = params.stride;
  let outW = params.outW;
  let x0 = i32(kx) - i32(params.padL);
  let dst = idx * outW;
  ${
    unrolledWidth > 0
      ? Array.from({ length: unrolledWidth }, (_, ox) => `{ let x = x0 + i32(${ox}u * stride); let inside = rowOk && u32(x) < width; cols[dst + ${ox}u] = select(0.0, xs[srcRow + select(0u, u32(x), inside)], inside); }`).join('\n  ')
      : `for (var ox = 0u; ox < outW; ox++) {
    let x = x0 + i32(ox * stride);
    let inside = rowOk && u32(x) < width;
    cols[dst + ox] = select(0.0, xs[srcRow + select(0u, u32(x), inside)], inside);
  }`
  }
}`,
});
