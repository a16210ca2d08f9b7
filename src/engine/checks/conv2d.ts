// Check cases for conv2d (src/engine/ops/conv2d.ts): 1×1, 3×3 and non-square kernels, strides
// 1 and 2, symmetric, asymmetric and oversized padding, channels {1,3,4,5,8} (the direct kernel),
// {24,32} and {33,96,130} (the tiled kernel with a real GPU's choices, both block shapes; the
// direct and row kernels on a software adapter), spatial sizes {1,5,7,33}, batch 1 and 2, with and without bias,
// weight gradients by the conv kernels and by im2col + matmul. Wide cases stay small spatially: the finite-difference check
// runs the float64 reference ~300 times per case.

import { conv2d, type Conv2dPadding } from '../ops/conv2d.ts';
import { refConv2d, refConv2dVjp } from '../reference/conv2d.ts';
import { refBinary, refBinaryVjp } from '../reference/elementwise.ts';
import type { Ref } from '../reference/index.ts';
import { conv2dOutputShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import type { KernelTuning } from '../tuning.ts';
import { withHalfCases, type CheckCase, type InputSpec, type OpCheck } from './runner.ts';

interface ConvCase {
  x: number[];
  w: number[];
  stride?: number;
  padding?: Conv2dPadding;
  bias?: boolean;
  /** A tensor the epilogue adds: a residual (the output's shape) or a per-sample bias [N, Cout, 1, 1]. */
  add?: 'residual' | 'per-sample';
  /** Run with a real GPU's kernel choices (engine/tuning.ts), whatever the adapter. */
  gpuShaped?: boolean;
  /** The weight gradient by im2col and one matmul, or by a conv kernel, whatever the adapter would choose. */
  weightGrad?: 'matmul' | 'conv';
}

const WEIGHT_GRAD_TUNING: Record<'matmul' | 'conv', Partial<KernelTuning>> = {
  matmul: { convWeightGradMatmulMaxTaps: 1 << 30 },
  conv: { convWeightGradMatmulMaxTaps: 0 },
};

/** A real GPU's conv choices: the tiled kernel from 17 channels (the window and row kernels up to 16), a wide weight-gradient split. */
const GPU_CONV_TUNING: Partial<KernelTuning> = {
  convTiledMinChannels: 16,
  convWindowMaxChannels: 16,
  convRowsMaxChannels: 16,
  convRowChannels: 8,
  convWeightGradTargetWorkgroups: 1024,
  convWeightGradMatmulMaxTaps: 0,
};

export const CONV2D_CASES: ConvCase[] = [
  { x: [2, 3, 7, 7], w: [5, 3, 3, 3], padding: 1, bias: true },
  { x: [2, 5, 7, 7], w: [3, 5, 3, 3], stride: 2, padding: 1, bias: true },
  { x: [1, 3, 33, 33], w: [5, 3, 3, 3], stride: 2, padding: 1 },
  { x: [1, 1, 33, 33], w: [3, 1, 3, 3], padding: 1, bias: true },
  { x: [2, 1, 7, 7], w: [1, 1, 3, 3], padding: 1, bias: true },
  { x: [1, 5, 7, 7], w: [5, 5, 3, 3] },
  { x: [2, 3, 7, 7], w: [5, 3, 3, 3], padding: [1, 0, 2, 1] },
  { x: [2, 3, 7, 7], w: [4, 3, 3, 3], stride: 2, padding: [0, 1, 0, 1], bias: true },
  { x: [2, 5, 1, 1], w: [3, 5, 3, 3], padding: 1, bias: true },
  { x: [2, 3, 1, 1], w: [5, 3, 1, 1] },
  { x: [2, 130, 7, 7], w: [5, 130, 1, 1], bias: true },
  { x: [1, 3, 7, 7], w: [130, 3, 1, 1], bias: true },
  { x: [1, 130, 7, 7], w: [3, 130, 3, 3], stride: 2, padding: 1 },
  { x: [1, 3, 7, 7], w: [130, 3, 3, 3], stride: 2, padding: 1 },
  { x: [1, 5, 7, 7], w: [3, 5, 1, 1], stride: 2 },
  { x: [1, 3, 7, 7], w: [5, 3, 1, 1], stride: 2, padding: 1, bias: true },
  { x: [2, 3, 7, 7], w: [5, 3, 2, 3], stride: 2, padding: [1, 0, 1, 1] },
  { x: [2, 8, 7, 7], w: [8, 8, 3, 3], padding: 1, bias: true },
  { x: [2, 4, 7, 7], w: [4, 4, 3, 3], stride: 2, padding: 1 },
  { x: [1, 4, 33, 33], w: [8, 4, 1, 1], bias: true },
  // Whole rows of 8 or 16 output pixels: the row kernel (forward and input gradient; taps 1-5,
  // flipped and phase-split taps, channel counts that leave half a thread's channels unused).
  { x: [2, 6, 8, 16], w: [12, 6, 3, 3], padding: 1, bias: true },
  { x: [1, 8, 8, 8], w: [4, 8, 5, 5], padding: 2 },
  { x: [2, 4, 16, 16], w: [8, 4, 3, 3], stride: 2, padding: 1 },
  { x: [1, 4, 6, 8], w: [8, 4, 3, 2], padding: [1, 0, 1, 0], bias: true },
  // Rows of 4 (a software adapter's row kernel takes them): output width 12 and 4.
  { x: [2, 8, 4, 12], w: [8, 8, 3, 3], padding: 1, bias: true },
  { x: [2, 8, 4, 4], w: [12, 8, 3, 3], padding: 1 },
  // 40 and 48 output channels in rows of 8: the row kernel on a software adapter (8 and 16
  // channels per thread), the tiled one on a GPU.
  { x: [2, 8, 4, 8], w: [40, 8, 3, 3], padding: 1, bias: true },
  { x: [2, 8, 4, 8], w: [48, 8, 3, 3], padding: 1, bias: true, add: 'residual' },
  // Over 16 channels the workgroup-memory kernel on a GPU (64-row blocks for 33 and 130, 32-row
  // blocks for 24, 32 and 96); a software adapter runs them on its direct and row kernels.
  { x: [1, 40, 7, 7], w: [33, 40, 3, 3], stride: 2, padding: 1, bias: true },
  { x: [2, 24, 7, 7], w: [32, 24, 1, 1], bias: true },
  { x: [2, 8, 5, 5], w: [96, 8, 3, 3], padding: 1, bias: true },
  // A weight gradient with a 3×3 window over 6×6 taps and 36 output channels: the window kernel
  // on a software adapter (any width), the tiled one on a GPU.
  { x: [1, 40, 6, 6], w: [36, 40, 3, 3], padding: 1, weightGrad: 'conv' },
  { x: [1, 40, 6, 6], w: [36, 40, 3, 3], padding: 1, gpuShaped: true },
  // Weight gradients of small images by im2col and one matmul (a software adapter's choice up to
  // 16 taps): asymmetric padding, stride 2, a non-square kernel, 1×1 over rows wider than the
  // unrolled im2col (its loop), columns off a multiple of 4 (the general matmul kernel); and the
  // conv kernels on small images, which that choice would otherwise take from them here.
  { x: [2, 3, 7, 7], w: [5, 3, 3, 3], padding: [1, 0, 2, 1], weightGrad: 'matmul' },
  { x: [2, 5, 7, 7], w: [3, 5, 3, 3], stride: 2, padding: 1, bias: true, weightGrad: 'matmul' },
  { x: [2, 3, 7, 7], w: [5, 3, 2, 3], stride: 2, padding: [1, 0, 1, 1], weightGrad: 'matmul' },
  { x: [1, 4, 33, 33], w: [8, 4, 1, 1], bias: true, weightGrad: 'matmul' },
  { x: [2, 8, 4, 4], w: [12, 8, 3, 3], padding: 1, weightGrad: 'matmul' },
  { x: [2, 8, 4, 4], w: [12, 8, 3, 3], padding: 1, weightGrad: 'conv' },
  { x: [2, 5, 7, 7], w: [3, 5, 3, 3], stride: 2, padding: 1, weightGrad: 'conv' },
  { x: [2, 3, 7, 7], w: [5, 3, 3, 3], padding: [1, 0, 2, 1], weightGrad: 'conv' },
  // A real GPU's kernel choices on any adapter: the tiled kernel (partial last slab, both block
  // shapes, stride-2 phases) and a weight gradient split over the batch.
  { x: [1, 40, 7, 7], w: [33, 40, 3, 3], stride: 2, padding: 1, bias: true, gpuShaped: true },
  { x: [2, 8, 5, 5], w: [96, 8, 3, 3], padding: 1, bias: true, gpuShaped: true },
  { x: [2, 24, 7, 7], w: [32, 24, 1, 1], bias: true, gpuShaped: true },
  { x: [3, 20, 6, 6], w: [20, 20, 3, 3], padding: 1, gpuShaped: true },
  // The epilogue's addend (the ResBlock's residual and timestep add) in each kernel: direct,
  // stride 2, rows, tiled, and tiled with a real GPU's choices.
  { x: [2, 3, 7, 7], w: [5, 3, 3, 3], padding: 1, bias: true, add: 'residual' },
  { x: [2, 5, 7, 7], w: [3, 5, 3, 3], stride: 2, padding: 1, bias: true, add: 'per-sample' },
  { x: [2, 6, 8, 16], w: [12, 6, 3, 3], padding: 1, bias: true, add: 'per-sample' },
  { x: [2, 6, 8, 16], w: [12, 6, 3, 3], padding: 1, add: 'residual' },
  { x: [2, 8, 5, 5], w: [96, 8, 3, 3], padding: 1, bias: true, add: 'residual' },
  { x: [3, 20, 6, 6], w: [20, 20, 3, 3], padding: 1, bias: true, add: 'per-sample', gpuShaped: true },
];

function caseName({ x, w, stride = 1, padding = 0, bias = false, add, gpuShaped = false, weightGrad }: ConvCase): string {
  const pad = typeof padding === 'number' ? padding : `[${padding}]`;
  const dw = weightGrad ? ` dW by ${weightGrad}` : '';
  return `x[${x}] w[${w}] s${stride} p${pad}${bias ? ' +bias' : ''}${add ? ` +${add}` : ''}${gpuShaped ? ' gpu-shaped' : ''}${dw}`;
}

const cases: CheckCase[] = CONV2D_CASES.map((c) => {
  const options = { stride: c.stride ?? 1, padding: c.padding ?? 0 };
  const inputs: InputSpec[] = [
    { name: 'x', shape: c.x },
    { name: 'w', shape: c.w },
  ];
  if (c.bias) inputs.push({ name: 'bias', shape: [c.w[0]!] });
  if (c.add) {
    const [n, cout, outH, outW] = conv2dOutputShape(c.x, c.w, options);
    inputs.push({ name: 'add', shape: c.add === 'residual' ? [n, cout, outH, outW] : [n, cout, 1, 1] });
  }
  // Inputs in order x, w, [bias], [add].
  const split = (xs: readonly unknown[]) => ({ b: c.bias ? xs[2] : undefined, a: c.add ? xs[c.bias ? 3 : 2] : undefined });
  return {
    name: caseName(c),
    ...(c.gpuShaped || c.weightGrad ? { tuning: { ...(c.gpuShaped ? GPU_CONV_TUNING : {}), ...(c.weightGrad ? WEIGHT_GRAD_TUNING[c.weightGrad] : {}) } } : {}),
    inputs,
    gpu: (xs) => {
      const { b, a } = split(xs) as { b?: Tensor; a?: Tensor };
      return conv2d(xs[0]!, xs[1]!, b ?? null, { ...options, add: a ?? null });
    },
    // The reference composes conv and a broadcast add: the fused epilogue is checked against both.
    ref: (xs) => {
      const { b, a } = split(xs) as { b?: Ref; a?: Ref };
      const y = refConv2d(xs[0]!, xs[1]!, b ?? null, options);
      return a ? refBinary('add', y, a) : y;
    },
    vjp: (xs, gy) => {
      const { b, a } = split(xs) as { b?: Ref; a?: Ref };
      const y = a ? refConv2d(xs[0]!, xs[1]!, b ?? null, options) : null;
      const [gConv, gAdd] = a ? refBinaryVjp('add', y!, a, gy) : [gy, null];
      const [dx, dw, db] = refConv2dVjp(xs[0]!, xs[1]!, b ?? null, gConv, options);
      return [dx, dw, ...(db ? [db] : []), ...(gAdd ? [gAdd] : [])];
    },
  };
});

export const conv2dChecks: OpCheck[] = [withHalfCases({ op: 'conv2d', cases })];
