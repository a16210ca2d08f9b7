// The U-Net's layers, with diffusers' parameter names (weight/bias, norm1, conv1, to_q, …).
// Each layer has one `forward`, written against a Backend: the GPU, the float64 reference and the
// shape-only plan (src/model/nn/plan.ts) all run it. Its body runs inside `ops.module(this, …)`,
// which names the ops for the plan.

import { deriveSeed, mapScalar, type Scalar } from '../../engine/index.ts';
import type { Backend } from './backend.ts';
import { Module, type Parameter } from './module.ts';

/** What a forward pass needs besides its inputs: dropout's seeds. */
export class ForwardContext {
  private counter = 0;
  /** Live in a captured training step (each replay derives the layers' seeds from its own). */
  constructor(readonly seed: Scalar) {}
  /** A fresh seed for the next random layer, derived from the step's seed. */
  nextSeed(): Scalar {
    const layer = ++this.counter;
    return mapScalar(this.seed, (seed) => deriveSeed(seed, 'layer', layer));
  }
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    super();
    this.weight = this.param('weight', [outFeatures, inFeatures], { kind: 'uniform-fan-in', fanIn: inFeatures });
    this.bias = this.param('bias', [outFeatures], { kind: 'uniform-fan-in', fanIn: inFeatures });
  }
  forward<T>(ops: Backend<T>, x: T): T {
    return ops.module(this, () => ops.linear(x, ops.param(this.weight), ops.param(this.bias)));
  }
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly stride = 1,
    readonly padding = 0,
  ) {
    super();
    const fanIn = inChannels * kernel * kernel;
    this.weight = this.param('weight', [outChannels, inChannels, kernel, kernel], { kind: 'uniform-fan-in', fanIn });
    this.bias = this.param('bias', [outChannels], { kind: 'uniform-fan-in', fanIn });
  }
  /** conv(x) + bias, plus `add` (a residual, or a per-sample bias [N, Cout, 1, 1]) in the same pass. */
  forward<T>(ops: Backend<T>, x: T, add: T | null = null): T {
    const options = { stride: this.stride, padding: this.padding, add };
    return ops.module(this, () => ops.conv2d(x, ops.param(this.weight), ops.param(this.bias), options));
  }
}

export class GroupNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(
    readonly groups: number,
    readonly channels: number,
    readonly eps: number,
  ) {
    super();
    if (channels % groups !== 0) throw new Error(`GroupNorm: ${groups} groups do not divide ${channels} channels`);
    this.weight = this.param('weight', [channels], { kind: 'ones' });
    this.bias = this.param('bias', [channels], { kind: 'zeros' });
  }
  /** GroupNorm, optionally followed by SiLU and then dropout, all in the same kernel. */
  forward<T>(ops: Backend<T>, x: T, fusedSilu = false, dropout: { p: number; seed: Scalar } | null = null): T {
    const options = { groups: this.groups, eps: this.eps, silu: fusedSilu, dropout };
    return ops.module(this, () => ops.groupNorm(x, ops.param(this.weight), ops.param(this.bias), options));
  }
}

/** diffusers' TimestepEmbedding: linear_1 → SiLU → linear_2. */
export class TimestepEmbedding extends Module {
  readonly linear_1: Linear;
  readonly linear_2: Linear;
  constructor(inChannels: number, embedChannels: number) {
    super();
    this.linear_1 = this.child('linear_1', new Linear(inChannels, embedChannels));
    this.linear_2 = this.child('linear_2', new Linear(embedChannels, embedChannels));
  }
  forward<T>(ops: Backend<T>, x: T): T {
    return ops.module(this, () => this.linear_2.forward(ops, ops.silu(this.linear_1.forward(ops, x))));
  }
}

/** diffusers' ResnetBlock2D (time_scale_shift "default"): the DDPM residual block. */
export class ResnetBlock2D extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly time_emb_proj: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly conv_shortcut: Conv2d | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    tembChannels: number,
    groups: number,
    eps: number,
    readonly dropoutRate: number,
    /** diffusers' output_scale_factor: the residual sum is divided by it. */
    readonly outputScale = 1,
  ) {
    super();
    this.norm1 = this.child('norm1', new GroupNorm(groups, inChannels, eps));
    this.conv1 = this.child('conv1', new Conv2d(inChannels, outChannels, 3, 1, 1));
    this.time_emb_proj = this.child('time_emb_proj', new Linear(tembChannels, outChannels));
    this.norm2 = this.child('norm2', new GroupNorm(groups, outChannels, eps));
    this.conv2 = this.child('conv2', new Conv2d(outChannels, outChannels, 3, 1, 1));
    this.conv_shortcut =
      inChannels !== outChannels ? this.child('conv_shortcut', new Conv2d(inChannels, outChannels, 1, 1, 0)) : null;
  }
  /** `tembAct` is SiLU(temb), shared by all blocks. */
  override blockLabel(): string {
    return `ResnetBlock2D(${this.inChannels}→${this.outChannels})`;
  }
  forward<T>(ops: Backend<T>, x: T, tembAct: T, ctx: ForwardContext): T {
    return ops.module(this, () => {
      // The timestep projection and the residual are added in conv1's and conv2's epilogues;
      // dropout runs in norm2's kernel.
      const h0 = this.norm1.forward(ops, x, true);
      const t = this.time_emb_proj.forward(ops, tembAct);
      let h = this.conv1.forward(ops, h0, ops.reshape(t, [ops.shape(t)[0]!, this.outChannels, 1, 1]));
      const dropout = this.training && this.dropoutRate > 0 ? { p: this.dropoutRate, seed: ctx.nextSeed() } : null;
      h = this.norm2.forward(ops, h, true, dropout);
      const sum = this.conv2.forward(ops, h, this.conv_shortcut ? this.conv_shortcut.forward(ops, x) : x);
      return this.outputScale === 1 ? sum : ops.affine(sum, 1 / this.outputScale, 0);
    });
  }
}

/** diffusers' Attention as used by UNet2DModel: GroupNorm, multi-head self-attention, residual. */
export class AttentionBlock extends Module {
  readonly group_norm: GroupNorm;
  readonly to_q: Linear;
  readonly to_k: Linear;
  readonly to_v: Linear;
  readonly to_out: { 0: Linear };
  readonly heads: number;
  constructor(
    readonly channels: number,
    headDim: number,
    groups: number,
    eps: number,
    /** diffusers' rescale_output_factor: the residual sum is divided by it. */
    readonly outputScale = 1,
  ) {
    super();
    if (channels % headDim !== 0) throw new Error(`AttentionBlock: head dim ${headDim} does not divide ${channels} channels`);
    this.heads = channels / headDim;
    this.group_norm = this.child('group_norm', new GroupNorm(groups, channels, eps));
    this.to_q = this.child('to_q', new Linear(channels, channels));
    this.to_k = this.child('to_k', new Linear(channels, channels));
    this.to_v = this.child('to_v', new Linear(channels, channels));
    this.to_out = { 0: new Linear(channels, channels) };
    this.child('to_out', new ToOut(this.to_out[0]));
  }
  override blockLabel(): string {
    return `Attention(${this.channels}, heads ${this.heads})`;
  }
  forward<T>(ops: Backend<T>, x: T): T {
    return ops.module(this, () => {
      const [B, C, H, W] = ops.shape(x) as [number, number, number, number];
      const T = H * W;
      const d = C / this.heads;
      const tokens = ops.permute(ops.reshape(this.group_norm.forward(ops, x), [B, C, T]), [0, 2, 1]); // [B, T, C]
      const split = (t: T) => ops.permute(ops.reshape(t, [B, T, this.heads, d]), [0, 2, 1, 3]); // [B, h, T, d]
      const q = split(this.to_q.forward(ops, tokens));
      const k = split(this.to_k.forward(ops, tokens));
      const v = split(this.to_v.forward(ops, tokens));
      const o = ops.reshape(ops.permute(ops.attention(q, k, v), [0, 2, 1, 3]), [B, T, C]);
      const projected = ops.permute(this.to_out[0].forward(ops, o), [0, 2, 1]); // [B, C, T]
      const sum = ops.add(x, ops.reshape(projected, [B, C, H, W]));
      return this.outputScale === 1 ? sum : ops.affine(sum, 1 / this.outputScale, 0);
    });
  }
}

/** Holds to_out.0 so the state-dict key is diffusers' `to_out.0.weight`. */
class ToOut extends Module {
  constructor(linear0: Linear) {
    super();
    this.child('0', linear0);
  }
}

/**
 * Stride-2 3x3 convolution (diffusers' Downsample2D with use_conv). Padding 1 pads every side;
 * padding 0 pads one zero row and column after the image (diffusers' downsample_padding=0,
 * TensorFlow's SAME), computed as the stride-1 convolution with padding 1 read at odd positions:
 * output o sees inputs 2o, 2o+1, 2o+2 either way.
 */
export class Downsample2D extends Module {
  readonly conv: Conv2d;
  constructor(
    channels: number,
    readonly padding: 0 | 1 = 1,
  ) {
    super();
    this.conv = this.child('conv', new Conv2d(channels, channels, 3, padding === 1 ? 2 : 1, 1));
  }
  forward<T>(ops: Backend<T>, x: T): T {
    return ops.module(this, () => {
      const y = this.conv.forward(ops, x);
      if (this.padding === 1) return y;
      const [B, C, H, W] = ops.shape(y) as [number, number, number, number];
      const rows = ops.reshape(ops.slice(ops.reshape(y, [B, C, H / 2, 2, W]), 3, 1, 2), [B, C, H / 2, W / 2, 2]);
      return ops.reshape(ops.slice(rows, 4, 1, 2), [B, C, H / 2, W / 2]);
    });
  }
}

/** Nearest-neighbour x2 then a 3x3 convolution (diffusers' Upsample2D with use_conv). */
export class Upsample2D extends Module {
  readonly conv: Conv2d;
  constructor(channels: number) {
    super();
    this.conv = this.child('conv', new Conv2d(channels, channels, 3, 1, 1));
  }
  forward<T>(ops: Backend<T>, x: T): T {
    return ops.module(this, () => this.conv.forward(ops, ops.upsampleNearest2x(x)));
  }
}
