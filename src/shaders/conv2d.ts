// conv2d's kernels: implicit GEMM (no im2col buffer) over one "generalised conv" that covers
// the forward pass, the input gradient and the weight gradient:
//
//   out[outOffset + b·oB + m·oM + y·oY + x·oX] = bias[m] + Σ_{c,ty,tx} filt[c,ty,tx,m] · src[b,c,Y,X]
//   Y = y·sMul + ty·dil − padT,  X = x·sMul + tx·dil − padL   (zero outside the source)
//
// As a GEMM: rows m (M output channels), columns p = (b, y, x) (pixels), summed k = (c, ty, tx).
// `filt` is read through signed c/ty/tx strides and an m stride, so the forward pass reads the
// weights [M, C, kh, kw] as they are, the input gradient reads them transposed and flipped, and
// the weight gradient reads gy [N, M, H, W] as its filter, all without a copy; the batch and channel strides of
// `src` let the weight gradient read x as [Cin, N, H, W]; the output strides let the input
// gradient of a strided conv write one sub-pixel phase per launch. Every shape is a uniform.
//
// Split-K: the summed channel axis can be cut into `splits` consecutive ranges of splitChannels,
// each written to its own output slab (outSplitStride apart) by its own work items of the same
// dispatch; the caller adds the slabs. The weight gradient, whose output is small and whose sum
// (over the batch) is long, uses it to fill the device in one dispatch.
//
// Four kernels, chosen by the launch's shape, M and the adapter (src/engine/ops/conv2d.ts,
// src/engine/tuning.ts; `window` is described at its declaration):
//  - `tiled` (real GPUs, M > 16): a workgroup stages BLOCK_K summed entries of BLOCK_M filter
//    columns and BLOCK_P gathered pixels in workgroup memory; each thread then reads them as
//    vec4 and keeps 8 channels × 8 pixels in registers. BLOCK_M is 64 (BLOCK_P 64) or 32
//    (BLOCK_P 128), a uniform, so M = 32 layers waste no half tiles.
//  - `direct`: no workgroup memory; a thread keeps DIRECT_M channels × DIRECT_P pixels in
//    registers and reads the filter and source itself. For small M on a GPU, and on a software
//    adapter whatever the row and window kernels do not take (workgroup memory is only extra
//    traffic on a CPU, and its pipelines take seconds to build there).
//  - `rows`: a direct kernel for stride-1, dilation-1 launches whose rowPixels pixels (16, 8 or
//    4) lie in one output row, rowChannels (8, or 16 on a software adapter) channels per thread.
//    Per (channel, filter row) a thread loads the rowPixels + tapsW − 1 source values its row
//    of pixels sees once and uses each for every tap of the filter row, instead of one load per
//    pixel and tap; column bounds are checked once per thread. tapsH and tapsW are compile-time
//    constants: the filter rows are unrolled and a row outside the source is masked by select,
//    not skipped by a branch. On SwiftShader both matter: a loop's or branch's every live
//    accumulator is merged per lane at each pass (a 3×3 conv [8,32,32,32], raw kernel in
//    Chromium: 74–82 ms → 38–50 ms).
// All are fully unrolled over the per-thread tile: SwiftShader runs dynamically indexed
// private arrays through memory.

import { comptime, defineKernel, ELEM_IN, ELEM_OUT, ELEM4_IN } from './kernel.ts';

export const CONV_WORKGROUP = 64;
/** Summed (c, ty, tx) entries staged per step of the tiled kernel. */
export const TILED_BLOCK_K = 16;
/** Channels × pixels each tiled thread accumulates (multiples of 4). */
const THREAD_M = 8;
const THREAD_P = 8;
/**
 * Channels × pixels of one tiled workgroup (BLOCK_M · BLOCK_P). BLOCK_M is 32 or 64: at most
 * one staged filter column and two staged pixel columns per thread.
 */
export const TILED_BLOCK_AREA = CONV_WORKGROUP * THREAD_M * THREAD_P;
const TILED_BLOCK_M_MAX = 64;
const TILED_BLOCK_P_MAX = TILED_BLOCK_AREA / 32;
/** Channels × pixels per invocation of the direct kernel. */
export const DIRECT_M = 8;
export const DIRECT_P = 8;

/** Widest and tallest filter the row kernel unrolls (its taps are compile-time constants). */
export const ROWS_MAX_TAPS_W = 7;
export const ROWS_MAX_TAPS_H = 7;

export type ConvKernelName = 'tiled' | 'direct' | 'rows' | 'window';

const CONV_UNIFORMS = {
  blocks: 'u32', // work items: tiled workgroups or direct invocations, all splits
  splitBlocks: 'u32', // work items of one split
  splitChannels: 'u32', // summed channels per split (the last split may have fewer)
  outSplitStride: 'u32', // output offset between splits
  pBlocks: 'u32', // pixel blocks per channel block
  blockM: 'u32', // tiled only: 32 or 64
  pixels: 'u32', // B · outH · outW
  outChannels: 'u32', // M
  channels: 'u32', // C, the summed channel axis (all splits)
  outH: 'u32',
  outW: 'u32',
  tapsH: 'u32',
  tapsW: 'u32',
  srcH: 'u32',
  srcW: 'u32',
  srcOffset: 'u32',
  srcStrideB: 'u32',
  srcStrideC: 'u32',
  sMul: 'u32',
  dil: 'u32',
  padT: 'i32',
  padL: 'i32',
  filtOffset: 'i32',
  filtStrideC: 'i32',
  filtStrideTy: 'i32',
  filtStrideTx: 'i32',
  filtStrideM: 'u32',
  outOffset: 'u32',
  outStrideB: 'u32',
  outStrideM: 'u32',
  outStrideY: 'u32',
  outStrideX: 'u32',
  // The addend's element of (batch entry n, channel m, pixel r of the plane) is
  // n·addStrideB + m·addStrideM + r·addStrideP: a residual has the output's layout, a per-sample
  // bias (the ResBlock's timestep projection) strides 0 over the plane.
  addStrideB: 'u32',
  addStrideM: 'u32',
  addStrideP: 'u32',
  /** 1: the epilogue adds bias[m]; 0: the launch has no bias. */
  hasBias: 'u32',
  /** 1: the epilogue adds the addend; 0: the launch has none. */
  hasAddend: 'u32',
} as const;

/**
 * Every tensor f32, or f16 when sampling in half precision (the sums stay f32). The forward's
 * epilogue adds bias[m] and then the addend (a residual, or a per-sample bias) in the same pass.
 * Both are always bound and switched by `hasBias` / `hasAddend` (a launch without them binds its
 * source as a placeholder), so one pipeline serves convs with and without a bias or residual, and
 * the gradients' launches: as optional bindings each combination was a pipeline of its own, and a
 * fashion-16 training step built 10 such extra conv pipelines (about 4 s on SwiftShader).
 */
const CONV_BINDINGS = {
  src: ELEM_IN,
  filt: ELEM_IN,
  bias: ELEM_IN,
  addend: ELEM_IN,
  outs: ELEM_OUT,
} as const;

const range = (n: number): number[] => [...Array(n).keys()];

/** WGSL lines, one per index, joined at `indent`. */
const unroll = (n: number, line: (i: number) => string, indent: string): string =>
  range(n).map(line).join(`\n${indent}`);

/** The row kernel's filter is packed [C, tapsH, tapsW, M] (M a multiple of 4), read as vec4 over m. */
const CONV_ROWS_BINDINGS = { ...CONV_BINDINGS, filt: ELEM4_IN } as const;

/** What an output pass adds: each combination gets its own store function and loop in one pipeline. */
interface Epilogue {
  bias: boolean;
  addend: boolean;
}
const EPILOGUES: readonly Epilogue[] = [
  { bias: false, addend: false },
  { bias: true, addend: false },
  { bias: false, addend: true },
  { bias: true, addend: true },
];
const storeName = ({ bias, addend }: Epilogue): string => `store4${bias ? 'Bias' : ''}${addend ? 'Addend' : ''}`;

/** Writes channels m..m+3 of one pixel (those below M), adding what `e` says. */
const storeFunction = (e: Epilogue): string => /* wgsl */ `
fn ${storeName(e)}(at: u32, addAt: u32, m: u32, v: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (m + i < params.outChannels) {
      var r = v[i];${e.bias ? '\n      r += f32(bias[m + i]);' : ''}${e.addend ? '\n      r += f32(addend[addAt + (m + i) * params.addStrideM]);' : ''}
      outs[at + (m + i) * params.outStrideM] = Elem(r);
    }
  }
}`;

/** Shared by every kernel: pixel → output (and addend) address, and a guarded write of 4 channels. */
const OUTPUT = /* wgsl */ `
fn outAddress(pix: u32, base: u32) -> u32 {
  let plane = params.outH * params.outW;
  let r = pix % plane;
  return base + (pix / plane) * params.outStrideB + (r / params.outW) * params.outStrideY
    + (r % params.outW) * params.outStrideX;
}

fn addendAddress(pix: u32) -> u32 {
  let plane = params.outH * params.outW;
  return (pix / plane) * params.addStrideB + (pix % plane) * params.addStrideP;
}

${EPILOGUES.map(storeFunction).join('\n')}`;

/** Per pixel: the source offset of its batch entry and the corner of its window. */
const windowOf = (pix: string, name: string): string => `
  let ${name}Src = srcBase + (${pix} / plane) * params.srcStrideB;
  let ${name}Y = i32((${pix} % plane / params.outW) * params.sMul) - params.padT;
  let ${name}X = i32((${pix} % params.outW) * params.sMul) - params.padL;`;

/** From a work item's index `item`: its split's channel range, source, filter and output bases. */
const splitOf = (item: string): string => `let split = ${item} / params.splitBlocks;
  let inner = ${item} % params.splitBlocks;
  let c0 = split * params.splitChannels;
  let channels = min(params.splitChannels, params.channels - c0);
  let srcBase = params.srcOffset + c0 * params.srcStrideC;
  let filtBase = params.filtOffset + i32(c0) * params.filtStrideC;
  let outBase = params.outOffset + split * params.outSplitStride;`;

/** Accumulator acc{j}_{q} holds pixel j, channels 4q..4q+3 of a thread's tile. */
interface TileCell {
  j: number;
  q: number;
}
const tileCells = (pixels: number, quads: number): TileCell[] =>
  range(pixels * quads).map((i) => ({ j: Math.floor(i / quads), q: i % quads }));
const acc = ({ j, q }: TileCell): string => `acc${j}_${q}`;

/**
 * Writes a thread's tile: pixel p0 + j, channels m0 + 4q... Through an array in one loop,
 * because unrolled stores cost seconds of pipeline build on SwiftShader.
 */
function writeTile(cells: TileCell[], pixels: number, quads: number, p0: string, m0: string, live = 'true'): string {
  const loop = (e: Epilogue): string => `for (var j = 0u; j < ${pixels}u; j++) {
      let pix = ${p0} + j;
      if (${live} && pix < params.pixels) {
        let at = outAddress(pix, outBase);
        let addAt = ${e.addend ? 'addendAddress(pix)' : '0u'};
        for (var q = 0u; q < ${quads}u; q++) { ${storeName(e)}(at, addAt, ${m0} + q * 4u, tile[j * ${quads}u + q]); }
      }
    }`;
  // The launch's epilogue is chosen once per thread (uniform branches), so each store runs as
  // it would in a pipeline of its own: per-element branches made the training step slower.
  const [plain, bias, addend, both] = EPILOGUES.map(loop);
  return `var tile: array<vec4<f32>, ${cells.length}>;
  ${cells.map((c, i) => `tile[${i}] = ${acc(c)};`).join('\n  ')}
  let withBias = params.hasBias != 0u;
  let withAddend = params.hasAddend != 0u;
  if (withBias && withAddend) {
    ${both}
  } else if (withBias) {
    ${bias}
  } else if (withAddend) {
    ${addend}
  } else {
    ${plain}
  }`;
}

/** Tiled staging: source value of pixel column `n` for the current (c, ty, tx), into Bs. */
const stagePixel = (n: string, column: string): string => `let sy${n} = u32(${n}Y + dy);
        let sx${n} = u32(${n}X + dx);
        let ok${n} = inK && sy${n} < srcH && sx${n} < srcW;
        let at${n} = select(0u, ${n}Src + cOff + sy${n} * srcW + sx${n}, ok${n});
        Bs[kk][${column}][t % 4u] = select(0.0, f32(src[at${n}]), ok${n});`;

export const convTiledKernel = defineKernel({
  name: 'conv2d-tiled',
  uniforms: CONV_UNIFORMS,
  bindings: CONV_BINDINGS,
  workgroupSize: CONV_WORKGROUP,
  body: (_, k) => {
    const quadsM = THREAD_M / 4;
    const quadsP = THREAD_P / 4;
    const cells = tileCells(THREAD_P, quadsM);
    return /* wgsl */ `${OUTPUT}

// Staged step: [k][column / 4] as vec4 over 4 consecutive columns.
var<workgroup> As: array<array<vec4<f32>, ${TILED_BLOCK_M_MAX / 4}>, ${TILED_BLOCK_K}>;
var<workgroup> Bs: array<array<vec4<f32>, ${TILED_BLOCK_P_MAX / 4}>, ${TILED_BLOCK_K}>;

${k.entry}
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  // No early return: every thread takes part in staging and barriers.
  let block = min(wg.x + wg.y * nwg.x, params.blocks - 1u);
  let blockM = params.blockM;
  let blockP = ${TILED_BLOCK_AREA}u / blockM;
  ${splitOf('block')}
  let p0 = (inner % params.pBlocks) * blockP;
  let m0 = (inner / params.pBlocks) * blockM;
  let plane = params.outH * params.outW;

  // Staging roles: filter column m0 + t (threads below blockM), pixel columns p0 + t + 64·i.
  let stagesA = t < blockM;
  let fm = i32(min(m0 + t, params.outChannels - 1u));
  let pixA = min(p0 + t, params.pixels - 1u);
  let pixB = min(p0 + t + ${CONV_WORKGROUP}u, params.pixels - 1u);
  let stagesB = blockP > ${CONV_WORKGROUP}u;
  ${windowOf('pixA', 'a')}
  ${windowOf('pixB', 'b')}

  // Compute roles: channels m0 + tm·4 .. +${THREAD_M}, pixels p0 + tp·4 .. +${THREAD_P} (tm, tp in vec4 units).
  let threadsP = blockP / ${THREAD_P}u;
  let tm = (t / threadsP) * ${quadsM}u;
  let tp = (t % threadsP) * ${quadsP}u;
  ${cells.map((c) => `var ${acc(c)} = vec4<f32>(0.0);`).join('\n  ')}

  // The next summed entry (c, ty, tx) to stage, walked incrementally: its filter offset, its
  // source channel offset and its window offsets dy = ty·dil, dx = tx·dil.
  let tapsH = params.tapsH;
  let tapsW = params.tapsW;
  let dil = i32(params.dil);
  let srcH = params.srcH;
  let srcW = params.srcW;
  let stepTx = params.filtStrideTx;
  let stepTy = params.filtStrideTy - i32(tapsW) * stepTx;
  let stepC = params.filtStrideC - i32(tapsH) * params.filtStrideTy;
  var c = 0u;
  var ty = 0u;
  var tx = 0u;
  var f = filtBase + fm * i32(params.filtStrideM);
  var cOff = 0u;
  var dy = 0;
  var dx = 0;
  let total = channels * tapsH * tapsW;
  for (var k0 = 0u; k0 < total; k0 += ${TILED_BLOCK_K}u) {
    for (var kk = 0u; kk < ${TILED_BLOCK_K}u; kk++) {
      let inK = c < channels;
      if (stagesA) {
        As[kk][t / 4u][t % 4u] = select(0.0, f32(filt[select(0u, u32(f), inK)]), inK);
      }
      ${stagePixel('a', 't / 4u')}
      if (stagesB) {
        ${stagePixel('b', `t / 4u + ${CONV_WORKGROUP / 4}u`)}
      }
      tx++;
      f += stepTx;
      dx += dil;
      if (tx == tapsW) {
        tx = 0u;
        dx = 0;
        ty++;
        f += stepTy;
        dy += dil;
        if (ty == tapsH) {
          ty = 0u;
          dy = 0;
          c++;
          f += stepC;
          cOff += params.srcStrideC;
        }
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILED_BLOCK_K}u; kk++) {
      ${unroll(quadsM, (q) => `let w${q} = As[kk][tm + ${q}u];`, '      ')}
      ${unroll(quadsP, (q) => `let v${q} = Bs[kk][tp + ${q}u];`, '      ')}
      ${cells.map((c) => `${acc(c)} += w${c.q} * v${c.j >> 2}.${'xyzw'[c.j % 4]};`).join('\n      ')}
    }
    workgroupBarrier();
  }
  if (wg.x + wg.y * nwg.x >= params.blocks) { return; }
  ${writeTile(cells, THREAD_P, quadsM, 'p0 + tp * 4u', 'm0 + tm * 4u')}
}`;
  },
});

export const convDirectKernel = defineKernel({
  name: 'conv2d-direct',
  uniforms: CONV_UNIFORMS,
  bindings: CONV_BINDINGS,
  workgroupSize: CONV_WORKGROUP,
  invocations: 'blocks',
  body: (_, k) => {
    const quads = DIRECT_M / 4;
    const I8 = ' '.repeat(8);
    const cells = tileCells(DIRECT_P, quads);
    return /* wgsl */ `${OUTPUT}
${k.mainClamped}
  ${splitOf('idx')}
  let p0 = (inner % params.pBlocks) * ${DIRECT_P}u;
  let m0 = (inner / params.pBlocks) * ${DIRECT_M}u;
  let plane = params.outH * params.outW;
  // Channels past M are clamped for loading and skipped when writing.
  ${unroll(DIRECT_M, (i) => `let mOff${i} = (min(m0 + ${i}u, params.outChannels - 1u) - m0) * params.filtStrideM;`, '  ')}
  ${unroll(
    DIRECT_P,
    (j) => `let pix${j} = min(p0 + ${j}u, params.pixels - 1u);${windowOf(`pix${j}`, `p${j}`)}\n  var srcC${j} = p${j}Src;`,
    '  ',
  )}
  ${cells.map((c) => `var ${acc(c)} = vec4<f32>(0.0);`).join('\n  ')}
  // Loop-invariant uniforms in registers: SwiftShader reloads a uniform field at every use.
  let srcH = params.srcH;
  let srcW = params.srcW;
  let dil = i32(params.dil);
  let tapsH = params.tapsH;
  let tapsW = params.tapsW;
  let filtStrideTy = params.filtStrideTy;
  let filtStrideTx = params.filtStrideTx;
  var fC = filtBase + i32(m0 * params.filtStrideM);
  for (var c = 0u; c < channels; c++) {
    for (var ty = 0u; ty < tapsH; ty++) {
      let fRow = fC + i32(ty) * filtStrideTy;
      let dy = i32(ty) * dil;
      ${unroll(
        DIRECT_P,
        (j) => `let sy${j} = u32(p${j}Y + dy);
      let yOk${j} = sy${j} < srcH;
      let row${j} = srcC${j} + sy${j} * srcW;`,
        '      ',
      )}
      for (var tx = 0u; tx < tapsW; tx++) {
        let f = u32(fRow + i32(tx) * filtStrideTx);
        let dx = i32(tx) * dil;
        ${unroll(quads, (q) => `let w${q} = vec4<f32>(${range(4).map((i) => `f32(filt[f + mOff${4 * q + i}])`).join(', ')});`, I8)}
        ${unroll(
          DIRECT_P,
          (j) => `let sx${j} = u32(p${j}X + dx);
        let ok${j} = yOk${j} && sx${j} < srcW;
        let v${j} = select(0.0, f32(src[select(0u, row${j} + sx${j}, ok${j})]), ok${j});
        ${unroll(quads, (q) => `${acc({ j, q })} += w${q} * v${j};`, '        ')}`,
          '        ',
        )}
      }
    }
    fC += params.filtStrideC;
    ${unroll(DIRECT_P, (j) => `srcC${j} += params.srcStrideC;`, '    ')}
  }
  ${writeTile(cells, DIRECT_P, quads, 'p0', 'm0', 'live')}
}`;
  },
});


export const convRowsKernel = defineKernel({
  name: 'conv2d-rows',
  uniforms: CONV_UNIFORMS,
  bindings: CONV_ROWS_BINDINGS,
  specialise: {
    tapsH: comptime.int(1, ROWS_MAX_TAPS_H),
    tapsW: comptime.int(1, ROWS_MAX_TAPS_W),
    rowPixels: comptime.int(4, 32),
    rowChannels: comptime.int(4, 16),
  },
  workgroupSize: CONV_WORKGROUP,
  invocations: 'blocks',
  body: ({ tapsH, tapsW, rowPixels, rowChannels }, k) => {
    const quads = rowChannels / 4;
    const reach = rowPixels + tapsW - 1; // source columns a thread's pixels see in one filter row
    const cells = tileCells(rowPixels, quads);
    return /* wgsl */ `${OUTPUT}
${k.mainClamped}
  ${splitOf('idx')}
  let p0 = (inner % params.pBlocks) * ${rowPixels}u;
  let m0 = (inner / params.pBlocks) * ${rowChannels}u;
  let plane = params.outH * params.outW;
  // Filter quads past M are clamped for loading (their channels are not written).
  let lastQuad = params.outChannels / 4u - 1u;
  ${unroll(quads, (q) => `let quadOff${q} = min(m0 / 4u + ${q}u, lastQuad) - m0 / 4u;`, '  ')}
  // The thread's pixels: one output row from (y, x0); source row y − padT, columns x0 − padL + r.
  let y = i32(p0 % plane / params.outW) - params.padT;
  let x0 = i32(p0 % params.outW) - params.padL;
  let srcW = params.srcW;
  let srcH = params.srcH;
  ${unroll(reach, (r) => `let colOk${r} = u32(x0 + ${r}) < srcW;`, '  ')}
  ${unroll(tapsH, (ty) => `let rowOk${ty} = u32(y + ${ty}) < srcH;`, '  ')}
  let srcWi = i32(srcW);
  ${cells.map((c) => `var ${acc(c)} = vec4<f32>(0.0);`).join('\n  ')}
  // Packed filter strides in vec4 units.
  let filtStrideTy = params.filtStrideTy / 4;
  let filtStrideTx = params.filtStrideTx / 4;
  var srcC = i32(srcBase + (p0 / plane) * params.srcStrideB) + x0;
  var fC = filtBase / 4 + i32(m0 / 4u);
  for (var c = 0u; c < channels; c++) {
    ${range(tapsH)
      .map(
        (ty) => `{
      let row = srcC + (y + ${ty}) * srcWi;
      ${unroll(reach, (r) => `let ok${r} = colOk${r} && rowOk${ty};
      let s${r} = select(0.0, f32(src[select(0u, u32(row + ${r}), ok${r})]), ok${r});`, '      ')}
      let fRow = fC + ${ty} * filtStrideTy;
      ${range(tapsW)
        .map(
          (tx) => `{
        let f = u32(fRow + ${tx} * filtStrideTx);
        ${unroll(quads, (q) => `let w${q} = vec4<f32>(filt[f + quadOff${q}]);`, '        ')}
        ${cells.map((cell) => `${acc(cell)} += w${cell.q} * s${cell.j + tx};`).join('\n        ')}
      }`,
        )
        .join('\n      ')}
    }`,
      )
      .join('\n    ')}
    fC += params.filtStrideC / 4;
    srcC += i32(params.srcStrideC);
  }
  ${writeTile(cells, rowPixels, quads, 'p0', 'm0', 'live')}
}`;
  },
});

/** Largest output window (outH · outW) the window kernel keeps in one thread's registers. */
export const WINDOW_MAX_AREA = 25;

/**
 * `window`: a thread computes a whole windowH × windowW output image of DIRECT_M channels: the
 * weight gradient's kh × kw filter window of one input channel, summed over the taps (the output
 * pixels of y). For stride 1 the source columns a window sees slide by one per tap, so each
 * filter-row step loads one new source value per window row and DIRECT_M filter values for
 * DIRECT_M · windowH · windowW multiply-adds (the direct kernel loads 2 per 4).
 */
export const convWindowKernel = defineKernel({
  name: 'conv2d-window',
  uniforms: CONV_UNIFORMS,
  bindings: CONV_BINDINGS,
  specialise: { windowH: comptime.int(1, 5), windowW: comptime.int(2, 5) },
  workgroupSize: CONV_WORKGROUP,
  invocations: 'blocks',
  body: ({ windowH, windowW }, k) => {
    const quads = DIRECT_M / 4;
    const area = windowH * windowW;
    const cells = tileCells(area, quads);
    const rows = range(windowH);
    const cols = range(windowW);
    const I6 = ' '.repeat(6);
    const I8 = ' '.repeat(8);
    /** The tap at column `t`: slide the window one column, load its new column, accumulate. */
    const tap = (t: string): string => `{
        ${unroll(windowH, (y) => cols.slice(0, -1).map((x) => `win${y}_${x} = win${y}_${x + 1};`).join(' '), I8)}
        let sx = i32(${t}) + ${windowW - 1} - padL;
        let colOk = u32(sx) < srcW;
        ${unroll(windowH, (y) => `{ let ok = rowOk${y} && colOk; win${y}_${windowW - 1} = select(0.0, f32(src[select(0u, u32(row${y} + sx), ok)]), ok); }`, I8)}
        let f = u32(fRow + i32(${t}) * filtStrideTx);
        ${unroll(quads, (q) => `let w${q} = vec4<f32>(${range(4).map((i) => `f32(filt[f + mOff${4 * q + i}])`).join(', ')});`, I8)}
        ${cells.map((cell) => `${acc(cell)} += w${cell.q} * win${Math.floor(cell.j / windowW)}_${cell.j % windowW};`).join(`\n${I8}`)}
      }`;
    return /* wgsl */ `${OUTPUT}
${k.mainClamped}
  ${splitOf('idx')}
  let image = inner % params.pBlocks;
  let m0 = (inner / params.pBlocks) * ${DIRECT_M}u;
  ${unroll(DIRECT_M, (i) => `let mOff${i} = (min(m0 + ${i}u, params.outChannels - 1u) - m0) * params.filtStrideM;`, '  ')}
  ${cells.map((c) => `var ${acc(c)} = vec4<f32>(0.0);`).join('\n  ')}
  // The window: win{y}_{x} is the source value output pixel (y, x) sees at the current tap.
  ${rows.map((y) => cols.map((x) => `var win${y}_${x} = 0.0;`).join(' ')).join('\n  ')}
  let srcH = params.srcH;
  let srcW = params.srcW;
  let tapsH = params.tapsH;
  let tapsW = params.tapsW;
  let padT = params.padT;
  let padL = params.padL;
  let filtStrideTy = params.filtStrideTy;
  let filtStrideTx = params.filtStrideTx;
  var srcC = i32(srcBase + image * params.srcStrideB);
  var fC = filtBase + i32(m0 * params.filtStrideM);
  for (var c = 0u; c < channels; c++) {
    for (var ty = 0u; ty < tapsH; ty++) {
      ${unroll(
        windowH,
        (y) => `let sy${y} = i32(ty) + ${y} - padT;
      let rowOk${y} = u32(sy${y}) < srcH;
      let row${y} = srcC + sy${y} * i32(srcW);`,
        I6,
      )}
      // Columns 0 .. windowW − 2 of the first tap; each tap then loads its last column.
      ${rows
        .map((y) =>
          range(windowW - 1)
            .map((x) => `{ let sx = ${x} - padL; let ok = rowOk${y} && u32(sx) < srcW; win${y}_${x + 1} = select(0.0, f32(src[select(0u, u32(row${y} + sx), ok)]), ok); }`)
            .join(`\n${I6}`),
        )
        .join(`\n${I6}`)}
      let fRow = fC + i32(ty) * filtStrideTy;
      for (var tx = 0u; tx < tapsW; tx++) {
        ${tap('tx')}
      }
    }
    fC += params.filtStrideC;
    srcC += i32(params.srcStrideC);
  }
  ${writeTile(cells, area, quads, `image * ${area}u`, 'm0', 'live')}
}`;
  },
});
