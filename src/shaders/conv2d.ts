// One direct-convolution kernel (implicit GEMM, no im2col buffer) that serves conv2d's forward,
// its input gradient and its weight gradient. Everything is a "generalised conv":
//
//   out[b, m, y, x] = bias[m] + Σ_{c, ty, tx} filt[c, ty, tx, m] · src[b, c, Y, X]
//   Y = (y·sMul + ty·dil − padT) / sDiv   (taken only when ≥ 0, divisible by sDiv and < srcH)
//   X = (x·sMul + tx·dil − padL) / sDiv   (likewise with srcW)
//
// `filt` is stored m-contiguous (the op packs it with a permute) and its c/ty/tx strides are
// signed, so the input gradient reads the filter flipped without another copy. Batch and
// channel strides of `src` are uniforms, so the weight gradient can read x as [Cin, N, H, W].
//
// Tiling: each invocation keeps TILE_M output channels × TILE_P output pixels in registers
// (TILE_M/4 vec4 accumulators per pixel). Pixels are flattened over (b, y, x), so tiny
// spatial sizes (1×1 outputs, 3×3 weight gradients) waste no lanes. Every loop bound and
// shape is a uniform; the only variants are how the filter is read:
//   - `vec4`: M and all filter strides are multiples of 4, so TILE_M channels load as vec4;
//   - `scalar`: any M, channel indices clamped to M−1 for loading and skipped when writing.

import { UniformLayout, declareBindings, linearMain, type KernelSpec, type StorageBinding } from './common.ts';

/** Output channels per invocation (a multiple of 4: one vec4 accumulator per 4 channels). */
export const CONV_TILE_M = 8;
/** Output pixels per invocation. */
export const CONV_TILE_P = 4;
export const CONV_WORKGROUP = 64;

export type ConvFilterLoad = 'vec4' | 'scalar';

export const convUniforms = new UniformLayout([
  { name: 'items', type: 'u32' }, // invocations: mBlocks · pBlocks
  { name: 'pBlocks', type: 'u32' },
  { name: 'pixels', type: 'u32' }, // B · outH · outW
  { name: 'outChannels', type: 'u32' }, // M
  { name: 'channels', type: 'u32' }, // C, the summed channel axis
  { name: 'outH', type: 'u32' },
  { name: 'outW', type: 'u32' },
  { name: 'tapsH', type: 'u32' },
  { name: 'tapsW', type: 'u32' },
  { name: 'srcH', type: 'u32' },
  { name: 'srcW', type: 'u32' },
  { name: 'srcStrideB', type: 'u32' },
  { name: 'srcStrideC', type: 'u32' },
  { name: 'sMul', type: 'u32' },
  { name: 'dil', type: 'u32' },
  { name: 'sDiv', type: 'u32' },
  { name: 'padT', type: 'i32' },
  { name: 'padL', type: 'i32' },
  { name: 'filtOffset', type: 'i32' },
  { name: 'filtStrideC', type: 'i32' },
  { name: 'filtStrideTy', type: 'i32' },
  { name: 'filtStrideTx', type: 'i32' },
  { name: 'outStrideB', type: 'u32' },
  { name: 'outStrideM', type: 'u32' },
  { name: 'hasBias', type: 'u32' },
]);

/** Tile shape of one invocation; the exported constants are the tuned choice. */
export interface ConvTile {
  m: number;
  p: number;
}
export const CONV_TILE: ConvTile = { m: CONV_TILE_M, p: CONV_TILE_P };

const range = (n: number): number[] => [...Array(n).keys()];
/** WGSL lines, one per index, joined at the given indent. */
const each = (n: number, line: (i: number) => string, indent: string): string =>
  range(n).map(line).join(`\n${indent}`);

/** Loads the tile's filter values at tap address `f` (m-offset included) into w0, w1, … */
function filterLoad(variant: ConvFilterLoad, quads: number, indent: string): string {
  if (variant === 'vec4') {
    return each(quads, (q) => `let w${q} = filt[min(u32(f) / 4u + ${q}u, lastQuad)];`, indent);
  }
  return each(
    quads,
    (q) => `let w${q} = vec4<f32>(${range(4).map((i) => `filt[u32(f) + mOff${4 * q + i}]`).join(', ')});`,
    indent,
  );
}

/**
 * The tap loops for one value of the summed channel, unrolled over the tile's pixels and
 * channel quads (SwiftShader runs dynamically indexed private arrays through memory).
 * `divisible`: sDiv > 1, so a tap counts only where the source coordinate divides exactly
 * (the input gradient of a strided conv).
 */
function tapLoops(variant: ConvFilterLoad, tile: ConvTile, divisible: boolean): string {
  const quads = tile.m / 4;
  const px = range(tile.p);
  const I6 = '      ';
  const I8 = '        ';
  const coord = (axis: 'y' | 'x', j: number, tap: string, size: string, indent: string): string =>
    divisible
      ? `let n${axis}${j} = ${axis}Base${j} + i32(${tap} * params.dil);
${indent}let ${axis}Ok${j} = n${axis}${j} >= 0 && n${axis}${j} % sDiv == 0 && u32(n${axis}${j} / sDiv) < ${size};
${indent}let s${axis}${j} = u32(n${axis}${j} / sDiv);`
      : `let s${axis}${j} = u32(${axis}Base${j} + i32(${tap} * params.dil));
${indent}let ${axis}Ok${j} = s${axis}${j} < ${size};`;
  return `
    for (var ty = 0u; ty < params.tapsH; ty++) {
      let fRow = fC + i32(ty) * params.filtStrideTy;
      ${px.map((j) => `${coord('y', j, 'ty', 'params.srcH', I6)}\n${I6}let row${j} = srcC${j} + sy${j} * params.srcW;`).join(`\n${I6}`)}
      for (var tx = 0u; tx < params.tapsW; tx++) {
        let f = fRow + i32(tx) * params.filtStrideTx;
        ${filterLoad(variant, quads, I8)}
        ${px
          .map(
            (j) => `${coord('x', j, 'tx', 'params.srcW', I8)}
${I8}let ok${j} = yOk${j} && xOk${j};
${I8}let v${j} = vec4<f32>(select(0.0, src[select(0u, row${j} + sx${j}, ok${j})], ok${j}));
${I8}${each(quads, (q) => `acc${j}_${q} = fma(w${q}, v${j}, acc${j}_${q});`, I8)}`,
          )
          .join(`\n${I8}`)}
      }
    }`;
}

export function convKernel(variant: ConvFilterLoad, tile: ConvTile = CONV_TILE): KernelSpec {
  const quads = tile.m / 4;
  const px = range(tile.p);
  const storage: StorageBinding[] = [
    { name: 'src', access: 'read' },
    { name: 'filt', access: 'read', type: variant === 'vec4' ? 'vec4<f32>' : 'f32' },
    { name: 'bias', access: 'read' },
    { name: 'outs', access: 'read_write' },
  ];
  const mSetup =
    variant === 'vec4'
      ? 'let lastQuad = arrayLength(&filt) - 1u;'
      : each(tile.m, (i) => `let mOff${i} = min(m0 + ${i}u, params.outChannels - 1u) - m0;`, '  ');
  const write = (j: number): string => `
  if (p0 + ${j}u < params.pixels) {
    let p = p0 + ${j}u;
    let base = (p / plane) * params.outStrideB + p % plane;
    ${each(quads, (q) => `store(base, m0 + ${4 * q}u, acc${j}_${q});`, '    ')}
  }`;
  const code = /* wgsl */ `${declareBindings(convUniforms, storage)}

fn store(base: u32, m: u32, v: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (m + i < params.outChannels) {
      var r = v[i];
      if (params.hasBias != 0u) { r += bias[m + i]; }
      outs[base + (m + i) * params.outStrideM] = r;
    }
  }
}
${linearMain(CONV_WORKGROUP, 'params.items')}
  let p0 = (idx % params.pBlocks) * ${tile.p}u;
  let m0 = (idx / params.pBlocks) * ${tile.m}u;
  let plane = params.outH * params.outW;
  let sDiv = i32(params.sDiv);
  ${mSetup}
  // Per pixel: the source offset of its batch entry and the top-left corner of its window.
  ${px
    .map(
      (j) => `let pix${j} = min(p0 + ${j}u, params.pixels - 1u);
  var srcC${j} = (pix${j} / plane) * params.srcStrideB;
  let yBase${j} = i32((pix${j} % plane / params.outW) * params.sMul) - params.padT;
  let xBase${j} = i32((pix${j} % params.outW) * params.sMul) - params.padL;`,
    )
    .join('\n  ')}
  ${px.map((j) => each(quads, (q) => `var acc${j}_${q} = vec4<f32>(0.0);`, '  ')).join('\n  ')}
  var fC = params.filtOffset + i32(m0);
  for (var c = 0u; c < params.channels; c++) {
    if (sDiv == 1) {${tapLoops(variant, tile, false)}
    } else {${tapLoops(variant, tile, true)}
    }
    fC += params.filtStrideC;
    ${each(tile.p, (j) => `srcC${j} += params.srcStrideC;`, '    ')}
  }
${px.map(write).join('')}
}`;
  const key = tile === CONV_TILE ? `conv2d:${variant}` : `conv2d:${variant}:${tile.m}x${tile.p}`;
  return { key, code, storage, uniforms: convUniforms, workgroupSize: CONV_WORKGROUP };
}
