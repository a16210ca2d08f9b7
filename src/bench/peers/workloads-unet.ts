// The U-Net of bench/WORKLOADS.md ("U-Net (DDPM-style, small)", 827,233 parameters in 120
// tensors) written once over a small op interface, so TensorFlow.js (NHWC) and jax-js (NCHW)
// run the same network: the rows of WORKLOADS' table in execution order. Also the fixed batch and
// linear schedule of its training step.

import { Rng } from '../../engine/index.ts';
import { normals, uniforms } from './common.ts';

export const BATCH = 8;
export const IMAGE = 32;
const TEMB_IN = 32;
const TEMB = 128;
const GROUPS = 8;
export const EPS = 1e-5;
export const TIMESTEPS = 1000;
export const WORKLOADS_UNET_FORWARD_FLOPS = 2_942_500_864;
export const ADAM = { lr: 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** One parameter: conv weights [cout,cin,k,k] (PyTorch layout), linear weights [in,out]. */
export interface ParamSpec {
  name: string;
  shape: number[];
  kind: 'conv' | 'linear' | 'bias' | 'gamma' | 'beta';
  /** k·k·cin or in-features (weights only). */
  fanIn: number;
}

function convSpec(name: string, cin: number, cout: number, k: number): ParamSpec[] {
  return [
    { name: `${name}.w`, shape: [cout, cin, k, k], kind: 'conv', fanIn: k * k * cin },
    { name: `${name}.b`, shape: [cout], kind: 'bias', fanIn: 0 },
  ];
}

function linearSpec(name: string, a: number, b: number): ParamSpec[] {
  return [
    { name: `${name}.w`, shape: [a, b], kind: 'linear', fanIn: a },
    { name: `${name}.b`, shape: [b], kind: 'bias', fanIn: 0 },
  ];
}

function normSpec(name: string, c: number): ParamSpec[] {
  return [
    { name: `${name}.gamma`, shape: [c], kind: 'gamma', fanIn: 0 },
    { name: `${name}.beta`, shape: [c], kind: 'beta', fanIn: 0 },
  ];
}

function resSpec(name: string, cin: number, cout: number): ParamSpec[] {
  return [
    ...normSpec(`${name}.norm1`, cin),
    ...convSpec(`${name}.conv1`, cin, cout, 3),
    ...linearSpec(`${name}.temb_proj`, TEMB, cout),
    ...normSpec(`${name}.norm2`, cout),
    ...convSpec(`${name}.conv2`, cout, cout, 3),
    ...(cin !== cout ? convSpec(`${name}.skip`, cin, cout, 1) : []),
  ];
}

function attnSpec(name: string, c: number): ParamSpec[] {
  return [
    ...normSpec(`${name}.norm`, c),
    ...linearSpec(`${name}.q`, c, c),
    ...linearSpec(`${name}.k`, c, c),
    ...linearSpec(`${name}.v`, c, c),
    ...linearSpec(`${name}.proj_out`, c, c),
  ];
}

/** Every parameter of WORKLOADS' U-Net, in the order of its table. */
export const UNET_PARAMS: ParamSpec[] = [
  ...linearSpec('temb.dense0', TEMB_IN, TEMB),
  ...linearSpec('temb.dense1', TEMB, TEMB),
  ...convSpec('conv_in', 1, 32, 3),
  ...resSpec('down0.res', 32, 32),
  ...convSpec('down0.downsample', 32, 32, 3),
  ...resSpec('down1.res', 32, 64),
  ...convSpec('down1.downsample', 64, 64, 3),
  ...resSpec('down2.res', 64, 64),
  ...attnSpec('down2.attn', 64),
  ...resSpec('mid.res1', 64, 64),
  ...attnSpec('mid.attn', 64),
  ...resSpec('mid.res2', 64, 64),
  ...resSpec('up2.res', 128, 64),
  ...attnSpec('up2.attn', 64),
  ...convSpec('up2.upsample', 64, 64, 3),
  ...resSpec('up1.res', 128, 64),
  ...convSpec('up1.upsample', 64, 64, 3),
  ...resSpec('up0.res', 96, 32),
  ...normSpec('norm_out', 32),
  ...convSpec('conv_out', 32, 1, 3),
];

/** WORKLOADS' initialisation: weights ~ N(0, 1/fan_in) (one seeded stream each), biases 0, GroupNorm 1/0. */
export function initialParams(seed = 7100): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  UNET_PARAMS.forEach((p, i) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (p.kind === 'conv' || p.kind === 'linear') out.set(p.name, normals(p.shape, seed + i, 1 / Math.sqrt(p.fanIn)));
    else out.set(p.name, new Float32Array(n).fill(p.kind === 'gamma' ? 1 : 0));
  });
  return out;
}

/** The fixed batch of the training step, our seeds: x0 ~ U(−1,1), eps ~ N(0,1) (NCHW), t ~ U{0..999}. */
export function fixedBatch(): { x0: Float32Array; eps: Float32Array; t: number[] } {
  const n = BATCH * IMAGE * IMAGE;
  const tRng = new Rng(6003);
  return {
    x0: uniforms(n, 6001, -1, 1),
    eps: normals([BATCH, 1, IMAGE, IMAGE], 6002),
    t: Array.from({ length: BATCH }, () => tRng.int(TIMESTEPS)),
  };
}

/** sqrt(abar) and sqrt(1 − abar) of the linear schedule, computed in float64, stored as float32. */
export function scheduleTables(): { sqrtAbar: Float32Array; sqrtOneMinusAbar: Float32Array } {
  const sqrtAbar = new Float32Array(TIMESTEPS);
  const sqrtOneMinusAbar = new Float32Array(TIMESTEPS);
  let abar = 1;
  for (let i = 0; i < TIMESTEPS; i++) {
    abar *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / (TIMESTEPS - 1));
    sqrtAbar[i] = Math.sqrt(abar);
    sqrtOneMinusAbar[i] = Math.sqrt(1 - abar);
  }
  return { sqrtAbar, sqrtOneMinusAbar };
}

/** `f_i = exp(−ln(10000)·i/15)`, i = 0..15: the timestep embedding's frequencies. */
export function tembFrequencies(): Float32Array {
  const half = TEMB_IN / 2;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - 1)));
}

/**
 * What the network needs from an engine. Arguments are consumed (jax-js's ownership rule): code
 * that uses a value twice passes `dup(x)` the first time. Activations are images in the engine's
 * own layout (NCHW or NHWC) or token matrices [N, T, C].
 */
export interface NetOps<T> {
  dup(x: T): T;
  /** 3x3 (pad 1, stride 1 or 2) or 1x1 (pad 0) conv with bias. */
  conv(x: T, w: T, b: T, k: 1 | 3, stride: 1 | 2): T;
  groupNorm(x: T, gamma: T, beta: T, groups: number): T;
  silu(x: T): T;
  add(a: T, b: T): T;
  /** x [N, in] or [N, T, in] times W [in, out] plus b. */
  linear(x: T, w: T, b: T): T;
  /** h + v[:, :, None, None] for v [N, C]. */
  addChannelVector(h: T, v: T): T;
  concatChannels(a: T, b: T): T;
  /** Nearest ×2. */
  upsample2(x: T): T;
  /** Image → tokens [N, H·W, C]. */
  toTokens(x: T): T;
  /** Tokens [N, H·W, C] → image of side `side`. */
  fromTokens(x: T, side: number): T;
  /** softmax(q·kᵀ·scale over keys)·v for q, k, v [N, T, C]. */
  attention(q: T, k: T, v: T, scale: number): T;
  /** [sin(t·f), cos(t·f)] for t [N] (float) and the constant f [16]: [N, 32]. */
  sinusoid(t: T, freqs: T): T;
}

type Params<T> = Record<string, T>;

function take<T>(p: Params<T>, name: string): T {
  const v = p[name];
  if (v === undefined) throw new Error(`WORKLOADS U-Net: no parameter ${name}`);
  return v;
}

function resBlock<T>(o: NetOps<T>, p: Params<T>, name: string, x: T, temb: T, hasSkip: boolean): T {
  const P = (s: string) => take(p, `${name}.${s}`);
  let h = o.conv(o.silu(o.groupNorm(o.dup(x), P('norm1.gamma'), P('norm1.beta'), GROUPS)), P('conv1.w'), P('conv1.b'), 3, 1);
  h = o.addChannelVector(h, o.linear(o.silu(temb), P('temb_proj.w'), P('temb_proj.b')));
  h = o.conv(o.silu(o.groupNorm(h, P('norm2.gamma'), P('norm2.beta'), GROUPS)), P('conv2.w'), P('conv2.b'), 3, 1);
  const skip = hasSkip ? o.conv(x, P('skip.w'), P('skip.b'), 1, 1) : x;
  return o.add(skip, h);
}

function attnBlock<T>(o: NetOps<T>, p: Params<T>, name: string, x: T, side: number): T {
  const P = (s: string) => take(p, `${name}.${s}`);
  const h = o.toTokens(o.groupNorm(o.dup(x), P('norm.gamma'), P('norm.beta'), GROUPS));
  const q = o.linear(o.dup(h), P('q.w'), P('q.b'));
  const k = o.linear(o.dup(h), P('k.w'), P('k.b'));
  const v = o.linear(h, P('v.w'), P('v.b'));
  const a = o.attention(q, k, v, 1 / Math.sqrt(64));
  return o.add(x, o.fromTokens(o.linear(a, P('proj_out.w'), P('proj_out.b')), side));
}

/** eps_pred = UNet(x, t): WORKLOADS' table, rows 1–22. `t` is float [N], `freqs` the 16 frequencies. */
export function unetForward<T>(o: NetOps<T>, p: Params<T>, x: T, t: T, freqs: T): T {
  // 1: temb
  const e = o.sinusoid(t, freqs);
  const temb0 = o.linear(o.silu(o.linear(e, take(p, 'temb.dense0.w'), take(p, 'temb.dense0.b'))), take(p, 'temb.dense1.w'), take(p, 'temb.dense1.b'));
  const temb = (): T => o.dup(temb0);
  // 2-8: down path
  let h = o.conv(x, take(p, 'conv_in.w'), take(p, 'conv_in.b'), 3, 1);
  const s0 = resBlock(o, p, 'down0.res', h, temb(), false);
  h = o.conv(o.dup(s0), take(p, 'down0.downsample.w'), take(p, 'down0.downsample.b'), 3, 2);
  const s1 = resBlock(o, p, 'down1.res', h, temb(), true);
  h = o.conv(o.dup(s1), take(p, 'down1.downsample.w'), take(p, 'down1.downsample.b'), 3, 2);
  h = resBlock(o, p, 'down2.res', h, temb(), false);
  const s2 = attnBlock(o, p, 'down2.attn', h, 8);
  // 9-11: middle
  h = resBlock(o, p, 'mid.res1', o.dup(s2), temb(), false);
  h = attnBlock(o, p, 'mid.attn', h, 8);
  h = resBlock(o, p, 'mid.res2', h, temb(), false);
  // 12-15: up, 8x8
  h = resBlock(o, p, 'up2.res', o.concatChannels(h, s2), temb(), true);
  h = attnBlock(o, p, 'up2.attn', h, 8);
  h = o.conv(o.upsample2(h), take(p, 'up2.upsample.w'), take(p, 'up2.upsample.b'), 3, 1);
  // 16-18: up, 16x16
  h = resBlock(o, p, 'up1.res', o.concatChannels(h, s1), temb(), true);
  h = o.conv(o.upsample2(h), take(p, 'up1.upsample.w'), take(p, 'up1.upsample.b'), 3, 1);
  // 19-22: up, 32x32, output
  h = resBlock(o, p, 'up0.res', o.concatChannels(h, s0), temb0, true);
  h = o.silu(o.groupNorm(h, take(p, 'norm_out.gamma'), take(p, 'norm_out.beta'), GROUPS));
  return o.conv(h, take(p, 'conv_out.w'), take(p, 'conv_out.b'), 3, 1);
}
