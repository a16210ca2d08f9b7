// 2-D convolution, NCHW: x [N,Cin,H,W] ⊛ w [Cout,Cin,kh,kw] (+ bias [Cout]), any kernel size,
// stride and padding. Forward, input gradient and weight gradient are each a "generalised conv"
// (src/shaders/conv2d.ts) with different uniforms, run by one of its kernels chosen by the
// launch's shape, its output channels and the adapter's tuning (planConv), except the weight
// gradient of small images on a software adapter: im2col and one matmul
// (convWeightGradByMatmul). The bias gradient is a sum over N, H, W.
// Reference: src/engine/reference/conv2d.ts. Checks: src/engine/checks/conv2d.ts.

import { foldedGrid } from '../../shaders/common.ts';
import {
  CONV_WORKGROUP,
  DIRECT_M,
  DIRECT_P,
  TILED_BLOCK_AREA,
  ROWS_MAX_TAPS_H,
  ROWS_MAX_TAPS_W,
  WINDOW_MAX_AREA,
  convDirectKernel,
  convWindowKernel,
  convRowsKernel,
  convTiledKernel,
  type ConvKernelName,
} from '../../shaders/conv2d.ts';
import { record } from '../tape.ts';
import { conv2dOutputShape, fmt, sameShape, stridesOf, normalizeConvPadding, type Conv2dGeometry, type Conv2dOptions } from '../shape.ts';
import { assertSameDtype, assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';
import { runtime } from '../runtime.ts';
import { sumRaw, viewAs } from './raw/reduce.ts';
import { permuteRaw, stridedCopy } from './raw/layout.ts';
import { matmulRaw } from './matmul.ts';
import { IM2COL_MAX_UNROLLED_WIDTH, im2colKernel } from '../../shaders/im2col.ts';

export type { Conv2dGeometry, Conv2dOptions, Conv2dPadding } from '../shape.ts';

/** The checked arguments and output size (conv2dOutputShape in shape.ts) of one conv2d call. */
export function conv2dGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  options: Conv2dOptions,
  op = 'conv2d',
): Conv2dGeometry {
  const [n, cout, outH, outW] = conv2dOutputShape(xShape, wShape, options, op);
  const [, cin, h, w] = xShape as [number, number, number, number];
  const [, , kh, kw] = wShape as [number, number, number, number];
  const pad = normalizeConvPadding(op, options.padding ?? 0);
  return { n, cin, h, w, cout, kh, kw, stride: options.stride ?? 1, pad, outH, outW };
}

/** One launch of the generalised conv; field meanings are in src/shaders/conv2d.ts. */
interface ConvLaunch {
  src: Tensor;
  /** The filter: element (c, ty, tx, m) at filtOffset + c·C + ty·Ty + tx·Tx + m·M. */
  filt: Tensor;
  bias: Tensor | null;
  /** Added after the bias in the forward's epilogue (a residual or per-sample bias), with its strides. */
  addend?: ConvAddend | null;
  out: Tensor;
  batch: number;
  outChannels: number;
  channels: number;
  outH: number;
  outW: number;
  tapsH: number;
  tapsW: number;
  srcH: number;
  srcW: number;
  srcOffset: number;
  srcStrideB: number;
  srcStrideC: number;
  sMul: number;
  dil: number;
  padT: number;
  padL: number;
  filtOffset: number;
  filtStrideC: number;
  filtStrideTy: number;
  filtStrideTx: number;
  filtStrideM: number;
  outOffset: number;
  outStrideB: number;
  outStrideM: number;
  outStrideY: number;
  outStrideX: number;
  /** Split-K: cut the summed channels into this many ranges, each summed into its own output slab. */
  splits?: number;
  /** Offset between the splits' output slabs. */
  outSplitStride?: number;
}

/** An epilogue addend: element (n, m, plane pixel r) at n·strideB + m·strideM + r·strideP. */
interface ConvAddend {
  tensor: Tensor;
  strideB: number;
  strideM: number;
  strideP: number;
}

/** A launch's geometry, without its buffers. */
type LaunchShape = Omit<ConvLaunch, 'src' | 'filt' | 'bias' | 'addend' | 'out'>;

/** Rows of padding that `block`-row channel blocks add to m rows. */
const paddedRows = (m: number, block: number): number => Math.ceil(m / block) * block - m;

interface ConvPlan {
  kernel: ConvKernelName;
  /** Tiled: channel rows per workgroup (32 or 64). */
  blockM: number;
  pBlocks: number;
  /** Tiled workgroups, or direct invocations (one split's). */
  blocks: number;
  workgroups: number;
  /** Row kernel: pixels per thread. */
  rowPixels: number;
}

/** Which kernel runs a launch, and its grid for one split of the summed channels. */
function planConv(l: LaunchShape): ConvPlan {
  const pixels = l.batch * l.outH * l.outW;
  const outChannels = l.outChannels;
  const tuning = runtime().tuning;
  const window = windowFits(l) && outChannels <= tuning.convWindowMaxChannels;
  const rowPixels = outChannels <= tuning.convRowsMaxChannels ? rowsFit(l) : 0;
  // Otherwise, above this many output channels the workgroup-memory kernel wins (per adapter: tuning.ts).
  if (!window && rowPixels === 0 && outChannels > tuning.convTiledMinChannels) {
    // 32-row blocks where they pad less (M = 32, 96, …), else 64 rows × 64 pixels.
    const blockM = paddedRows(outChannels, 32) < paddedRows(outChannels, 64) ? 32 : 64;
    const pBlocks = Math.ceil(pixels / (TILED_BLOCK_AREA / blockM));
    const blocks = pBlocks * Math.ceil(outChannels / blockM);
    return { kernel: 'tiled', blockM, pBlocks, blocks, workgroups: blocks, rowPixels: 0 };
  }
  const kernel: ConvKernelName = window ? 'window' : rowPixels > 0 ? 'rows' : 'direct';
  const perThread = kernel === 'window' ? l.outH * l.outW : kernel === 'rows' ? rowPixels : DIRECT_P;
  const blockM = kernel === 'rows' && outChannels % tuning.convRowChannels === 0 ? tuning.convRowChannels : DIRECT_M;
  const pBlocks = Math.ceil(pixels / perThread);
  const blocks = pBlocks * Math.ceil(outChannels / blockM);
  return { kernel, blockM, pBlocks, blocks, workgroups: Math.ceil(blocks / CONV_WORKGROUP), rowPixels };
}

function launchConv(l: ConvLaunch): void {
  // `batch` only sizes the pixel axis; the kernel takes `pixels`.
  const { src, filt, bias, addend = null, out, batch, splits = 1, outSplitStride = 0, ...geometry } = l;
  const pixels = batch * l.outH * l.outW;
  const plan = planConv(l);
  const { blockM, pBlocks } = plan;
  if (plan.blocks === 0) return;
  const splitChannels = Math.ceil(l.channels / splits);
  const blocks = plan.blocks * Math.ceil(l.channels / splitChannels);
  const epilogue = {
    hasBias: bias ? 1 : 0,
    hasAddend: addend ? 1 : 0,
    addStrideB: addend?.strideB ?? 0,
    addStrideM: addend?.strideM ?? 0,
    addStrideP: addend?.strideP ?? 0,
  };
  const uniforms = { ...geometry, ...epilogue, blockM, pBlocks, blocks, splitBlocks: plan.blocks, splitChannels, outSplitStride, pixels };
  // An absent bias or addend binds the source in its place (read-only, never read: the flags are 0).
  const buffers = { src, filt, bias: bias ?? src, addend: addend?.tensor ?? src, outs: out };
  if (plan.kernel === 'tiled') launch(convTiledKernel, {}, buffers, uniforms, foldedGrid(blocks));
  else if (plan.kernel === 'window') launch(convWindowKernel, { windowH: l.outH, windowW: l.outW }, buffers, uniforms);
  else if (plan.kernel === 'rows') {
    const packed = packFilter(l);
    launch(convRowsKernel, { tapsH: l.tapsH, tapsW: l.tapsW, rowPixels: plan.rowPixels, rowChannels: plan.blockM }, { ...buffers, filt: packed }, { ...uniforms, ...packedFilterStrides(l) });
    packed.dispose();
  } else launch(convDirectKernel, {}, buffers, uniforms);
}

/**
 * Whether the window kernel runs a launch: unit steps, small output images (the weight
 * gradient's filter windows) and taps enough wider than a window for sliding to pay.
 */
function windowFits(l: LaunchShape): boolean {
  return (
    l.sMul === 1 &&
    l.dil === 1 &&
    l.outW >= 2 &&
    l.outH * l.outW <= WINDOW_MAX_AREA &&
    l.outH <= 5 &&
    l.outW <= 5 &&
    l.tapsW >= 2 * l.outW
  );
}

/** The launch's filter copied to [C, tapsH, tapsW, M], the row kernel's vec4 layout. */
function packFilter(l: ConvLaunch): Tensor {
  const shape = [l.channels, l.tapsH, l.tapsW, l.outChannels];
  const packed = emptyTensor(shape, 'conv2d-packed-filter', l.filt.dtype);
  const strides = [l.filtStrideC, l.filtStrideTy, l.filtStrideTx, l.filtStrideM];
  stridedCopy(l.filt, packed, shape, strides, l.filtOffset, stridesOf(shape), 0);
  return packed;
}

function packedFilterStrides(l: ConvLaunch) {
  return {
    filtOffset: 0,
    filtStrideC: l.tapsH * l.tapsW * l.outChannels,
    filtStrideTy: l.tapsW * l.outChannels,
    filtStrideTx: l.outChannels,
    filtStrideM: 1,
  };
}

/**
 * Pixels per thread of the row kernel for a launch (0: it does not fit): unit steps, and output
 * rows that split into whole runs of that many pixels.
 */
function rowsFit(l: LaunchShape): number {
  const t = runtime().tuning;
  if (t.convRowPixels.length === 0 || l.outChannels % 4 !== 0 || (l.splits ?? 1) > 1 || l.sMul !== 1 || l.dil !== 1 || l.tapsW < 1 || l.tapsW > ROWS_MAX_TAPS_W || l.tapsH < 1 || l.tapsH > ROWS_MAX_TAPS_H) return 0;
  return t.convRowPixels.find((p) => l.outW % p === 0) ?? 0;
}

/** y = conv(x, w) + bias (+ add: a residual [N, Cout, outH, outW] or a per-sample bias [N, Cout, 1, 1]). */
function convForward(x: Tensor, w: Tensor, bias: Tensor | null, add: Tensor | null, g: Conv2dGeometry): Tensor {
  const out = emptyTensor([g.n, g.cout, g.outH, g.outW], 'conv2d', x.dtype);
  const plane = g.outH * g.outW;
  const perSample = add !== null && add.shape[2] === 1 && add.shape[3] === 1 && plane > 1;
  launchConv({
    src: x,
    filt: w, // [Cout, Cin, kh, kw] read in place
    bias,
    addend: add && (perSample ? { tensor: add, strideB: g.cout, strideM: 1, strideP: 0 } : { tensor: add, strideB: g.cout * plane, strideM: plane, strideP: 1 }),
    out,
    batch: g.n,
    outChannels: g.cout,
    channels: g.cin,
    outH: g.outH,
    outW: g.outW,
    tapsH: g.kh,
    tapsW: g.kw,
    srcH: g.h,
    srcW: g.w,
    srcOffset: 0,
    srcStrideB: g.cin * g.h * g.w,
    srcStrideC: g.h * g.w,
    sMul: g.stride,
    dil: 1,
    padT: g.pad[0],
    padL: g.pad[2],
    filtOffset: 0,
    filtStrideC: g.kh * g.kw,
    filtStrideTy: g.kw,
    filtStrideTx: 1,
    filtStrideM: g.cin * g.kh * g.kw,
    outOffset: 0,
    outStrideB: g.cout * g.outH * g.outW,
    outStrideM: g.outH * g.outW,
    outStrideY: g.outW,
    outStrideX: 1,
  });
  return out;
}

/**
 * One axis of the input gradient's sub-pixel phase. Input positions i = phase + s·a receive
 * gy[o] through taps k = i + pad − s·o, i.e. only k ≡ phase + pad (mod s). Walking those taps
 * from the last one down (t = 0 .. taps−1, k = kLast − s·t) makes o = a + t − shift increase
 * with t, as the kernel's source coordinate must.
 */
interface PhaseAxis {
  /** Input positions in this phase (a = 0 .. count−1). */
  count: number;
  taps: number;
  kLast: number;
  shift: number;
}

function phaseAxis(phase: number, size: number, k: number, pad: number, s: number): PhaseAxis {
  const count = Math.ceil((size - phase) / s);
  const k0 = (phase + pad) % s;
  const taps = k0 < k ? Math.ceil((k - k0) / s) : 0;
  const kLast = k0 + s * (taps - 1);
  // With t = 0 (k = kLast): o = (phase + s·a + pad − kLast) / s = a − shift.
  return { count, taps, kLast, shift: -(phase + pad - kLast) / s };
}

/**
 * dx[n, ci, iy, ix] = Σ gy[n, co, oy, ox] · w[co, ci, ky, kx] over oy·s − top + ky = iy. For
 * stride s it runs one launch per sub-pixel phase (iy mod s, ix mod s), each a plain stride-1
 * conv over the taps that phase can reach, so no tap is wasted on the zeros between strides.
 */
function convInputGrad(gy: Tensor, w: Tensor, g: Conv2dGeometry): Tensor {
  const dx = emptyTensor([g.n, g.cin, g.h, g.w], 'conv2d-grad-x');
  const s = g.stride;
  for (let py = 0; py < Math.min(s, g.h); py++) {
    for (let px = 0; px < Math.min(s, g.w); px++) {
      const ay = phaseAxis(py, g.h, g.kh, g.pad[0], s);
      const ax = phaseAxis(px, g.w, g.kw, g.pad[2], s);
      launchConv({
        src: gy,
        filt: w, // read transposed (m = ci, c = co) and flipped, in place
        bias: null,
        out: dx,
        batch: g.n,
        outChannels: g.cin,
        channels: g.cout,
        outH: ay.count,
        outW: ax.count,
        tapsH: ay.taps,
        tapsW: ax.taps,
        srcH: g.outH,
        srcW: g.outW,
        srcOffset: 0,
        srcStrideB: g.cout * g.outH * g.outW,
        srcStrideC: g.outH * g.outW,
        sMul: 1,
        dil: 1,
        padT: ay.shift,
        padL: ax.shift,
        // Tap (t, u) of the phase is w[.., kLastY − s·t, kLastX − s·u, ..].
        filtOffset: ay.kLast * g.kw + ax.kLast,
        filtStrideC: g.cin * g.kh * g.kw,
        filtStrideTy: -s * g.kw,
        filtStrideTx: -s,
        filtStrideM: g.kh * g.kw,
        outOffset: py * g.w + px,
        outStrideB: g.cin * g.h * g.w,
        outStrideM: g.h * g.w,
        outStrideY: s * g.w,
        outStrideX: s,
      });
    }
  }
  return dx;
}

/**
 * dw[co, ci, ky, kx] = Σ_{n, oy, ox} gy[n, co, oy, ox] · x[n, ci, oy·s − top + ky, ox·s − left + kx]:
 * a conv over x read as [Cin, N, H, W] whose "filter" is gy (taps = output pixels, dilation s).
 * Its output is small (Cout × Cin·kh·kw) and its sum long (N·outH·outW), so when that leaves
 * few workgroups the sum over N is split (split-K, one dispatch) into partial results that one
 * reduction adds up.
 */
function convWeightGrad(x: Tensor, gy: Tensor, g: Conv2dGeometry): Tensor {
  const t = runtime().tuning;
  // The im2col columns (kh·kw times x's size for stride 1) must fit one binding.
  const colsBytes = 4 * g.cin * g.kh * g.kw * g.n * g.outH * g.outW;
  if (g.outH * g.outW <= t.convWeightGradMatmulMaxTaps && colsBytes <= t.maxBindingBytes) return convWeightGradByMatmul(x, gy, g);
  const size = g.cout * g.cin * g.kh * g.kw;
  const dwShape = [g.cout, g.cin, g.kh, g.kw];
  const sum = {
    src: x,
    filt: gy, // [N, Cout, outH, outW] read in place
    bias: null,
    batch: g.cin,
    outChannels: g.cout,
    channels: g.n,
    outH: g.kh,
    outW: g.kw,
    tapsH: g.outH,
    tapsW: g.outW,
    srcH: g.h,
    srcW: g.w,
    srcOffset: 0,
    srcStrideB: g.h * g.w,
    srcStrideC: g.cin * g.h * g.w,
    sMul: 1,
    dil: g.stride,
    padT: g.pad[0],
    padL: g.pad[2],
    filtOffset: 0,
    filtStrideC: g.cout * g.outH * g.outW,
    filtStrideTy: g.outW,
    filtStrideTx: 1,
    filtStrideM: g.outH * g.outW,
    outOffset: 0,
    outStrideB: g.kh * g.kw,
    outStrideM: g.cin * g.kh * g.kw,
    outStrideY: g.kw,
    outStrideX: 1,
  };
  const { workgroups } = planConv(sum);
  // As many splits as fill the device, and no more than one binding holds (their slabs share one).
  const slabs = Math.max(1, Math.floor(t.maxBindingBytes / (4 * size)));
  const perSplit = Math.ceil(g.n / Math.min(g.n, slabs, Math.ceil(t.convWeightGradTargetWorkgroups / workgroups)));
  const parts = Math.ceil(g.n / perSplit);
  const out = emptyTensor(parts > 1 ? [parts, ...dwShape] : dwShape, 'conv2d-grad-w');
  launchConv({ ...sum, out, splits: parts, outSplitStride: size });
  if (parts === 1) return out;
  const dw = sumRaw(out, [0]);
  out.dispose();
  return dw;
}

/**
 * The weight gradient as one matmul over every tap of every image: x unfolded (im2col) into
 * cols [Cin·kh·kw, N·outH·outW], dy's rows [Cout, N·outH·outW] (a permute), dW = dy-rows ·
 * colsᵀ. Where each image has few taps the conv kernels' threads get too little work each
 * (the tuning's convWeightGradMatmulMaxTaps).
 */
function convWeightGradByMatmul(x: Tensor, gy: Tensor, g: Conv2dGeometry): Tensor {
  const taps = g.n * g.outH * g.outW;
  const rows = g.cin * g.kh * g.kw;
  const cols = emptyTensor([rows, taps], 'conv2d-im2col');
  const unrolledWidth = g.outW <= IM2COL_MAX_UNROLLED_WIDTH ? g.outW : 0;
  launch(im2colKernel, { unrolledWidth }, { xs: x, cols }, {
    batch: g.n,
    channels: g.cin,
    height: g.h,
    width: g.w,
    kernelH: g.kh,
    kernelW: g.kw,
    outH: g.outH,
    outW: g.outW,
    stride: g.stride,
    padT: g.pad[0],
    padL: g.pad[2],
    count: rows * g.n * g.outH, // one invocation per im2col row of outW columns
  });
  const gyRows = viewAs(permuteRaw(gy, [1, 0, 2, 3]), [g.cout, taps]);
  const dw = matmulRaw(gyRows, cols, false, true);
  gyRows.dispose();
  cols.dispose();
  return viewAs(dw, [g.cout, g.cin, g.kh, g.kw]);
}

/** conv2d's options: the geometry, and a tensor the epilogue adds to the output. */
export interface Conv2dCallOptions extends Conv2dOptions {
  /**
   * Added to the output in the same pass: a residual [N, Cout, outH, outW], or a per-sample bias
   * [N, Cout, 1, 1] (the ResBlock's timestep projection). Its gradient is dy, or dy summed over
   * each plane.
   */
  add?: Tensor | null;
}

/**
 * 2-D convolution of x [N,Cin,H,W] with w [Cout,Cin,kh,kw], plus bias [Cout] when given, plus
 * `options.add` when given (conv + bias + add in one pass).
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, options: Conv2dCallOptions = {}): Tensor {
  assertTensor('conv2d', 'x', x);
  assertTensor('conv2d', 'w', w);
  if (bias !== null) {
    assertTensor('conv2d', 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== w.shape[0]) {
      throw new Error(`conv2d: bias ${fmt(bias.shape)} must be [${w.shape[0]}] to match w ${fmt(w.shape)}`);
    }
  }
  const g = conv2dGeometry(x.shape, w.shape, options);
  const add = options.add ?? null;
  if (add !== null) {
    assertTensor('conv2d', 'add', add);
    const full = [g.n, g.cout, g.outH, g.outW];
    if (!sameShape(add.shape, full) && !sameShape(add.shape, [g.n, g.cout, 1, 1])) {
      throw new Error(`conv2d: add ${fmt(add.shape)} must be the output's [${full}] or a per-sample bias [${g.n},${g.cout},1,1]`);
    }
  }
  assertSameDtype('conv2d', { x, w, bias, add });
  const dispatcher = runtime().dispatcher;
  const out = dispatcher.withRole('forward', () => convForward(x, w, bias, add, g));
  const inputs = [x, w, ...(bias ? [bias] : []), ...(add ? [add] : [])];
  return record(out, 'conv2d', inputs, (gy) => {
    const dx = x.requiresGrad ? dispatcher.withRole('grad-input', () => convInputGrad(gy, w, g)) : null;
    const dw = w.requiresGrad ? dispatcher.withRole('grad-weight', () => convWeightGrad(x, gy, g)) : null;
    const grads = [dx, dw];
    if (bias) grads.push(bias.requiresGrad ? sumRaw(gy, [0, 2, 3]) : null);
    if (add) grads.push(!add.requiresGrad ? null : sameShape(add.shape, gy.shape) ? gy : sumRaw(gy, [2, 3], true));
    return grads;
  });
}
