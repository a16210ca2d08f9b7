// One direct-convolution kernel (implicit GEMM, no im2col buffer) that serves conv2d's forward,
// its input gradient and its weight gradient. Each is an instance of a "generalised conv":
//
//   out[outOffset + b·oB + m·oM + y·oY + x·oX] = bias[m] + Σ_{c,ty,tx} filt[c,ty,tx,m] · src[b,c,Y,X]
//   Y = y·sMul + ty·dil − padT,  X = x·sMul + tx·dil − padL   (zero outside the source)
//
// `filt` is m-contiguous (the op packs it with a permute) with signed c/ty/tx strides, so the
// input gradient reads the filter flipped without another copy. The batch and channel strides
// of `src` are uniforms, so the weight gradient can read x as [Cin, N, H, W]; the output
// strides let the input gradient of a strided conv write one sub-pixel phase per launch.
//
// Tiling: an invocation keeps TILE_M output channels × TILE_P output pixels in registers
// (TILE_M/4 vec4 accumulators per pixel), fully unrolled: SwiftShader runs dynamically indexed
// private arrays through memory. Pixels are flattened over (b, y, x), so tiny outputs (1×1
// images, 3×3 weight gradients) waste no lanes. Every shape is a uniform; the two variants
// differ only in how the filter is read:
//   - `vec4`: M, the filter offset and strides are multiples of 4: TILE_M channels load as vec4;
//   - `scalar`: any M; channels past M are clamped for loading and skipped when writing.

import { UniformLayout, declareBindings, linearMain, type KernelSpec, type StorageBinding } from './common.ts';

/** Output channels per invocation (a multiple of 4: one vec4 accumulator per 4 channels). */
export const CONV_TILE_M = 16;
/** Output pixels per invocation. */
export const CONV_TILE_P = 4;
export const CONV_WORKGROUP = 64;

export type ConvFilterLoad = 'vec4' | 'scalar' | 'quad';

/** Tile shape of one invocation; CONV_TILE is the tuned choice. */
export interface ConvTile {
  m: number;
  p: number;
}
export const CONV_TILE: ConvTile = { m: CONV_TILE_M, p: CONV_TILE_P };

export const convUniforms = new UniformLayout([
  { name: 'items', type: 'u32' }, // invocations: pBlocks · ceil(M / TILE_M)
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
  { name: 'padT', type: 'i32' },
  { name: 'padL', type: 'i32' },
  { name: 'filtOffset', type: 'i32' },
  { name: 'filtStrideC', type: 'i32' },
  { name: 'filtStrideTy', type: 'i32' },
  { name: 'filtStrideTx', type: 'i32' },
  { name: 'outOffset', type: 'u32' },
  { name: 'outStrideB', type: 'u32' },
  { name: 'outStrideM', type: 'u32' },
  { name: 'outStrideY', type: 'u32' },
  { name: 'outStrideX', type: 'u32' },
  { name: 'hasBias', type: 'u32' },
]);

const range = (n: number): number[] => [...Array(n).keys()];

/** One WGSL line per index, joined at `indent`. */
const unroll = (n: number, line: (i: number) => string, indent: string): string =>
  range(n).map(line).join(`\n${indent}`);

/** Loads the tile's filter values at tap address `f` (m0 included) into w0, w1, … */
function filterLoads(variant: ConvFilterLoad, quads: number, indent: string): string {
  if (variant === 'vec4') {
    return unroll(quads, (q) => `let w${q} = filt[min(u32(f) / 4u + ${q}u, lastQuad)];`, indent);
  }
  if (variant === 'quad') {
    return unroll(
      quads,
      (q) => `let mine${q} = filt[u32(f) + laneOff${q}];
${indent}let w${q} = vec4<f32>(${range(4).map((i) => `quadBroadcast(mine${q}, ${i}u)`).join(', ')});`,
      indent,
    );
  }
  const load = (q: number): string => range(4).map((i) => `filt[u32(f) + mOff${4 * q + i}]`).join(', ');
  return unroll(quads, (q) => `let w${q} = vec4<f32>(${load(q)});`, indent);
}

/** Per pixel j: the source offset of its batch entry, its window corner and output address. */
function pixelSetup(j: number): string {
  return `let pix${j} = min(p0 + ${j}u, params.pixels - 1u);
  let b${j} = pix${j} / plane;
  let y${j} = pix${j} % plane / params.outW;
  let x${j} = pix${j} % params.outW;
  var srcC${j} = b${j} * params.srcStrideB;
  let yBase${j} = i32(y${j} * params.sMul) - params.padT;
  let xBase${j} = i32(x${j} * params.sMul) - params.padL;
  let outAt${j} = params.outOffset + b${j} * params.outStrideB + y${j} * params.outStrideY + x${j} * params.outStrideX;`;
}

/** For tap row ty: pixel j's source row offset and whether that row is inside the source. */
function rowSetup(j: number): string {
  return `let sy${j} = u32(yBase${j} + dy);
      let yOk${j} = sy${j} < srcH;
      let row${j} = srcC${j} + sy${j} * srcW;`;
}

/** For tap (ty, tx): pixel j's source value (0 in the padding) times the filter, accumulated. */
function tapUpdate(j: number, quads: number): string {
  return `let sx${j} = u32(xBase${j} + dx);
        let ok${j} = yOk${j} && sx${j} < srcW;
        let v${j} = vec4<f32>(select(0.0, src[select(0u, row${j} + sx${j}, ok${j})], ok${j}));
        ${unroll(quads, (q) => `acc${j}_${q} += w${q} * v${j};`, '        ')}`;
}

/** Writes pixel j's accumulators (plus bias) for the channels below M. */
function pixelWrite(j: number, quads: number): string {
  return `if (live && p0 + ${j}u < params.pixels) {
    ${unroll(quads, (q) => `store(outAt${j}, m0 + ${4 * q}u, acc${j}_${q});`, '    ')}
  }`;
}

export function convKernel(variant: ConvFilterLoad, tile: ConvTile = CONV_TILE): KernelSpec {
  const quads = tile.m / 4;
  const storage: StorageBinding[] = [
    { name: 'src', access: 'read' },
    { name: 'filt', access: 'read', type: variant === 'vec4' ? 'vec4<f32>' : 'f32' },
    { name: 'bias', access: 'read' },
    { name: 'outs', access: 'read_write' },
  ];
  const channelSetup =
    variant === 'vec4'
      ? 'let lastQuad = arrayLength(&filt) - 1u;'
      : variant === 'quad'
        ? `let lane = idx % 4u;
  ${unroll(quads, (q) => `let laneOff${q} = min(m0 + ${4 * q}u + lane, params.outChannels - 1u) - m0;`, '  ')}`
        : unroll(tile.m, (i) => `let mOff${i} = min(m0 + ${i}u, params.outChannels - 1u) - m0;`, '  ');
  const entry =
    variant === 'quad'
      ? `
@compute @workgroup_size(${CONV_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * ${CONV_WORKGROUP}u;
  // No early return: the 4 lanes of a quad share filter loads through quadBroadcast.
  let live = idx < params.items;`
      : `${linearMain(CONV_WORKGROUP, 'params.items')}
  let live = true;`;
  const code = /* wgsl */ `${variant === 'quad' ? 'enable subgroups;\n' : ''}${declareBindings(convUniforms, storage)}

fn store(at: u32, m: u32, v: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (m + i < params.outChannels) {
      var r = v[i];
      if (params.hasBias != 0u) { r += bias[m + i]; }
      outs[at + (m + i) * params.outStrideM] = r;
    }
  }
}
${entry}
  let p0 = (idx % params.pBlocks) * ${tile.p}u;
  let m0 = (idx / params.pBlocks) * ${tile.m}u;
  let plane = params.outH * params.outW;
  ${channelSetup}
  ${unroll(tile.p, pixelSetup, '  ')}
  ${unroll(tile.p * quads, (k) => `var acc${Math.floor(k / quads)}_${k % quads} = vec4<f32>(0.0);`, '  ')}
  // Loop-invariant uniforms in registers: SwiftShader reloads uniform fields at every use.
  let srcH = params.srcH;
  let srcW = params.srcW;
  let dil = i32(params.dil);
  let tapsH = params.tapsH;
  let tapsW = params.tapsW;
  let filtStrideTy = params.filtStrideTy;
  let filtStrideTx = params.filtStrideTx;
  var fC = params.filtOffset + i32(m0);
  for (var c = 0u; c < params.channels; c++) {
    for (var ty = 0u; ty < tapsH; ty++) {
      let fRow = fC + i32(ty) * filtStrideTy;
      let dy = i32(ty) * dil;
      ${unroll(tile.p, rowSetup, '      ')}
      for (var tx = 0u; tx < tapsW; tx++) {
        let f = fRow + i32(tx) * filtStrideTx;
        let dx = i32(tx) * dil;
        ${filterLoads(variant, quads, '        ')}
        ${unroll(tile.p, (j) => tapUpdate(j, quads), '        ')}
      }
    }
    fC += params.filtStrideC;
    ${unroll(tile.p, (j) => `srcC${j} += params.srcStrideC;`, '    ')}
  }
  ${unroll(tile.p, (j) => pixelWrite(j, quads), '  ')}
}`;
  const key = tile === CONV_TILE ? `conv2d:${variant}` : `conv2d:${variant}:${tile.m}x${tile.p}`;
  return { key, code, storage, uniforms: convUniforms, workgroupSize: CONV_WORKGROUP };
}

// ---- workgroup-memory tiled variant (being evaluated) ----------------------------------------

/** Workgroup tile: 64 output channels × 64 pixels; 8×8 threads of 8 channels × 8 pixels. */
export const TILED_BLOCK = 64;
/** Summed (c, ty, tx) entries staged in workgroup memory per step. */
export const TILED_K = 16;

export function convTiledKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'src', access: 'read' },
    { name: 'filt', access: 'read' },
    { name: 'bias', access: 'read' },
    { name: 'outs', access: 'read_write' },
  ];
  const px = range(8);
  const code = /* wgsl */ `${declareBindings(convUniforms, storage)}
var<workgroup> As: array<array<vec4<f32>, ${TILED_BLOCK / 4}>, ${TILED_K}>;
var<workgroup> Bs: array<array<vec4<f32>, ${TILED_BLOCK / 4}>, ${TILED_K}>;

fn store(at: u32, m: u32, v: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (m + i < params.outChannels) {
      var r = v[i];
      if (params.hasBias != 0u) { r += bias[m + i]; }
      outs[at + (m + i) * params.outStrideM] = r;
    }
  }
}

fn outAddress(pix: u32) -> u32 {
  let plane = params.outH * params.outW;
  let r = pix % plane;
  return params.outOffset + (pix / plane) * params.outStrideB + (r / params.outW) * params.outStrideY
    + (r % params.outW) * params.outStrideX;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let block = wg.x + wg.y * nwg.x;
  let p0 = (block % params.pBlocks) * ${TILED_BLOCK}u;
  let m0 = (block / params.pBlocks) * ${TILED_BLOCK}u;
  let plane = params.outH * params.outW;
  // Loader: thread t stages channel m0 + t of the filter and pixel p0 + t of the source.
  let lm = min(m0 + t, params.outChannels - 1u);
  let lp = min(p0 + t, params.pixels - 1u);
  let yBase = i32((lp % plane / params.outW) * params.sMul) - params.padT;
  let xBase = i32((lp % params.outW) * params.sMul) - params.padL;
  let srcB = (lp / plane) * params.srcStrideB;
  let dil = i32(params.dil);
  // Compute: thread t owns channels m0 + 8·(t / 8) .. +8 and pixels p0 + 8·(t % 8) .. +8.
  let tm = (t / 8u) * 2u;
  let tp = (t % 8u) * 2u;
  ${px.map((j) => `var acc${j}_0 = vec4<f32>(0.0);\n  var acc${j}_1 = vec4<f32>(0.0);`).join('\n  ')}
  // (c, ty, tx) of the next summed entry to stage.
  var c = 0u;
  var ty = 0u;
  var tx = 0u;
  let total = params.channels * params.tapsH * params.tapsW;
  for (var k0 = 0u; k0 < total; k0 += ${TILED_K}u) {
    for (var kk = 0u; kk < ${TILED_K}u; kk++) {
      let inK = c < params.channels;
      let f = params.filtOffset + i32(c) * params.filtStrideC + i32(ty) * params.filtStrideTy
        + i32(tx) * params.filtStrideTx + i32(lm);
      As[kk][t / 4u][t % 4u] = select(0.0, filt[select(0u, u32(f), inK)], inK);
      let sy = u32(yBase + i32(ty) * dil);
      let sx = u32(xBase + i32(tx) * dil);
      let ok = inK && sy < params.srcH && sx < params.srcW;
      Bs[kk][t / 4u][t % 4u] = select(0.0, src[select(0u, srcB + c * params.srcStrideC + sy * params.srcW + sx, ok)], ok);
      tx++;
      if (tx == params.tapsW) {
        tx = 0u;
        ty++;
        if (ty == params.tapsH) {
          ty = 0u;
          c++;
        }
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILED_K}u; kk++) {
      let w0 = As[kk][tm];
      let w1 = As[kk][tm + 1u];
      let b0 = Bs[kk][tp];
      let b1 = Bs[kk][tp + 1u];
      ${px.map((j) => `acc${j}_0 += w0 * b${j >> 2}.${'xyzw'[j % 4]};\n      acc${j}_1 += w1 * b${j >> 2}.${'xyzw'[j % 4]};`).join('\n      ')}
    }
    workgroupBarrier();
  }
  ${px
    .map(
      (j) => `if (p0 + tp * 4u + ${j}u < params.pixels) {
    let at = outAddress(p0 + tp * 4u + ${j}u);
    store(at, m0 + tm * 4u, acc${j}_0);
    store(at, m0 + tm * 4u + 4u, acc${j}_1);
  }`,
    )
    .join('\n  ')}
}`;
  return { key: 'conv2d:tiled', code, storage, uniforms: convUniforms, workgroupSize: 64 };
}
