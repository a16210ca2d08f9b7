// The DDPM U-Net (Ho et al. 2020; diffusers' UNet2DModel layout and parameter names) from a config.

import { cast, fmt, type Scalar, type Tensor } from '../engine/index.ts';
import { validateConfig, type UNetConfig } from './config.ts';
import {
  AttentionBlock,
  Conv2d,
  Downsample2D,
  ForwardContext,
  GroupNorm,
  ResnetBlock2D,
  TimestepEmbedding,
  Upsample2D,
} from './nn/layers.ts';
import { gpuBackend, halfBackend, type Backend } from './nn/backend.ts';
import type { HalfWeights } from './nn/half-weights.ts';
import { Module } from './nn/module.ts';
import { ModelPlan, planBackend } from './nn/plan.ts';

/** Children named "0", "1", … so state-dict keys read `resnets.0.conv1.weight`. */
class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.child(String(i), m));
  }
}

/** One resolution level: ResBlocks, each optionally followed by attention, then a resampler. */
class UNetLevel extends Module {
  readonly resnets: ModuleList<ResnetBlock2D>;
  readonly attentions: ModuleList<AttentionBlock> | null;
  readonly resampler: Downsample2D | Upsample2D | null;
  constructor(resnets: ResnetBlock2D[], attentions: AttentionBlock[] | null, resampler: Downsample2D | Upsample2D | null) {
    super();
    this.attentions = attentions ? this.child('attentions', new ModuleList(attentions)) : null;
    this.resnets = this.child('resnets', new ModuleList(resnets));
    this.resampler = resampler
      ? this.child(resampler instanceof Downsample2D ? 'downsamplers' : 'upsamplers', new ModuleList([resampler])) &&
        resampler
      : null;
  }
}

export interface UNetOptions {
  /** Seed of the dropout masks for this forward pass (vary it per step). */
  seed?: Scalar;
}

export class UNet extends Module {
  readonly config: UNetConfig;
  readonly conv_in: Conv2d;
  readonly time_embedding: TimestepEmbedding;
  readonly down_blocks: ModuleList<UNetLevel>;
  readonly mid_block: UNetLevel & { second: ResnetBlock2D };
  readonly up_blocks: ModuleList<UNetLevel>;
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(config: Partial<UNetConfig>) {
    super();
    const c = (this.config = validateConfig(config));
    const ch = c.channelMultipliers.map((m) => m * c.baseChannels);
    const temb = 4 * c.baseChannels;
    const levels = ch.length;
    const attnAt = (level: number) => c.attentionResolutions.includes(c.imageSize / 2 ** level);
    const midScale = c.midBlockScale ?? 1;
    const res = (cin: number, cout: number, scale = 1) => new ResnetBlock2D(cin, cout, temb, c.normGroups, c.normEps, c.dropout, scale);
    const attn = (channels: number, scale = 1) =>
      new AttentionBlock(channels, c.headChannels ?? channels / c.heads, c.normGroups, c.normEps, scale);

    this.conv_in = this.child('conv_in', new Conv2d(c.inChannels, ch[0]!, 3, 1, 1));
    this.time_embedding = this.child('time_embedding', new TimestepEmbedding(c.baseChannels, temb));

    const down: UNetLevel[] = [];
    let prev = ch[0]!;
    for (let i = 0; i < levels; i++) {
      const out = ch[i]!;
      const resnets = Array.from({ length: c.resBlocksPerLevel }, (_, j) => res(j === 0 ? prev : out, out));
      const attns = attnAt(i) ? resnets.map(() => attn(out)) : null;
      down.push(new UNetLevel(resnets, attns, i < levels - 1 ? new Downsample2D(out, c.downsamplePadding ?? 1) : null));
      prev = out;
    }
    this.down_blocks = this.child('down_blocks', new ModuleList(down));

    const last = ch[levels - 1]!;
    const midAttention = c.midAttention ?? true;
    const mid = new UNetLevel([res(last, last, midScale), res(last, last, midScale)], midAttention ? [attn(last, midScale)] : null, null) as UNetLevel & {
      second: ResnetBlock2D;
    };
    mid.second = mid.resnets.items[1]!;
    this.mid_block = this.child('mid_block', mid);

    // Skip channels in the order the down path produces them (conv_in, each ResBlock, each downsampler).
    const skips: number[] = [ch[0]!];
    for (let i = 0; i < levels; i++) {
      for (let j = 0; j < c.resBlocksPerLevel; j++) skips.push(ch[i]!);
      if (i < levels - 1) skips.push(ch[i]!);
    }
    const up: UNetLevel[] = [];
    prev = last;
    for (let i = levels - 1; i >= 0; i--) {
      const out = ch[i]!;
      const resnets = Array.from({ length: c.resBlocksPerLevel + 1 }, (_, j) => res((j === 0 ? prev : out) + skips.pop()!, out));
      const attns = attnAt(i) ? resnets.map(() => attn(out)) : null;
      up.push(new UNetLevel(resnets, attns, i > 0 ? new Upsample2D(out) : null));
      prev = out;
    }
    this.up_blocks = this.child('up_blocks', new ModuleList(up));

    this.conv_norm_out = this.child('conv_norm_out', new GroupNorm(c.normGroups, ch[0]!, c.normEps));
    const outChannels = c.learnedVariance ? 2 * c.outChannels : c.outChannels;
    this.conv_out = this.child('conv_out', new Conv2d(ch[0]!, outChannels, 3, 1, 1));
  }

  private checkInput(x: readonly number[], t: readonly number[]): void {
    const c = this.config;
    const want = [x[0]!, c.inChannels, c.imageSize, c.imageSize];
    if (x.length !== 4 || x.some((d, i) => d !== want[i])) {
      throw new Error(`UNet: x ${fmt(x)} must be [N, ${c.inChannels}, ${c.imageSize}, ${c.imageSize}]`);
    }
    if (t.length !== 1 || t[0] !== x[0]) {
      throw new Error(`UNet: timesteps ${fmt(t)} must be [${x[0]}] (one per image of x ${fmt(x)})`);
    }
  }

  /** The network's prediction for noisy images x [N, C, H, W] at float timesteps t [N], on the GPU. */
  forward(x: Tensor, t: Tensor, options: UNetOptions = {}): Tensor {
    return this.forwardWith(gpuBackend, x, t, options);
  }

  /**
   * The prediction computed in half precision (weights from `weights`, activations f16, sums in
   * f32), returned in f32: how sampling runs where the adapter has 'shader-f16'.
   */
  forwardHalf(x: Tensor, t: Tensor, weights: HalfWeights, options: UNetOptions = {}): Tensor {
    const out = this.forwardWith(halfBackend(weights), cast(x, 'f16'), t, options);
    return cast(out, 'f32');
  }

  /** The same network on any backend (the float64 reference uses this). */
  forwardWith<T>(ops: Backend<T>, x: T, t: T, options: UNetOptions = {}): T {
    this.checkInput(ops.shape(x), ops.shape(t));
    const c = this.config;
    const ctx = new ForwardContext(options.seed ?? 0);
    const emb = ops.timestepEmbedding(t, c.baseChannels, { flipSinToCos: c.flipSinToCos, downscaleFreqShift: c.freqShift });
    const tembAct = ops.silu(this.time_embedding.forward(ops, emb));

    let h = this.conv_in.forward(ops, c.centerInput ? ops.affine(x, 2, -1) : x);
    const skips: T[] = [h];
    for (const level of this.down_blocks.items) {
      level.resnets.items.forEach((block, j) => {
        h = block.forward(ops, h, tembAct, ctx);
        if (level.attentions) h = level.attentions.items[j]!.forward(ops, h);
        skips.push(h);
      });
      if (level.resampler) {
        h = level.resampler.forward(ops, h);
        skips.push(h);
      }
    }
    h = this.mid_block.resnets.items[0]!.forward(ops, h, tembAct, ctx);
    if (this.mid_block.attentions) h = this.mid_block.attentions.items[0]!.forward(ops, h);
    h = this.mid_block.second.forward(ops, h, tembAct, ctx);
    for (const level of this.up_blocks.items) {
      level.resnets.items.forEach((block, j) => {
        h = block.forward(ops, ops.concat([h, skips.pop()!], 1), tembAct, ctx);
        if (level.attentions) h = level.attentions.items[j]!.forward(ops, h);
      });
      if (level.resampler) h = level.resampler.forward(ops, h);
    }
    return this.conv_out.forward(ops, this.conv_norm_out.forward(ops, h, true));
  }

  /**
   * Layer table, FLOPs and activation count of a training step's forward pass for a batch of
   * `batch` images: `forwardWith` itself, run on the shape-only plan backend (in training mode, so
   * dropout counts, whatever mode the model is in).
   */
  plan(batch: number): ModelPlan {
    const c = this.config;
    const plan = new ModelPlan();
    const wasTraining = this.training;
    this.train(true);
    try {
      this.forwardWith(planBackend(this, plan), { shape: [batch, c.inChannels, c.imageSize, c.imageSize] }, { shape: [batch] });
    } finally {
      this.train(wasTraining);
    }
    return plan;
  }
}
