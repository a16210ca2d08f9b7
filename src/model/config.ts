// U-Net configurations: the DDPM paper's settings, named presets, and validation.

export interface UNetConfig {
  imageSize: number;
  inChannels: number;
  /** Channels predicted (ε); doubled when `learnedVariance` (ε and the variance interpolation v). */
  outChannels: number;
  baseChannels: number;
  /** Channels of level i = baseChannels · channelMultipliers[i]; one downsampling between levels. */
  channelMultipliers: number[];
  resBlocksPerLevel: number;
  /** Feature-map sizes (e.g. 16 for 16x16) whose levels get self-attention after each ResBlock. */
  attentionResolutions: number[];
  /** Attention heads at every attention block (head dim = channels / heads)… */
  heads: number;
  /** …unless this is set: then heads = channels / headChannels (diffusers' attention_head_dim). */
  headChannels?: number | null;
  dropout: number;
  normGroups: number;
  normEps: number;
  learnedVariance: boolean;
  /**
   * Sinusoidal timestep embedding convention: DDPM's original code puts sin first with
   * frequencies exp(−ln(10⁴)·i/(half−1)) (flipSinToCos false, freqShift 1); diffusers'
   * UNet2DModel default is cos first with i/half (true, 0).
   */
  flipSinToCos: boolean;
  freqShift: number;
  // diffusers' UNet2DModel settings that DDPM's own models leave at their defaults (absent = default):
  /** `center_input_sample`: the network sees 2x − 1 instead of x (default false). */
  centerInput?: boolean;
  /** `mid_block_scale_factor`: the mid block's ResBlocks and attention divide their residual sums by it (default 1). */
  midBlockScale?: number;
  /** `add_attention`: self-attention between the mid block's two ResBlocks (default true). */
  midAttention?: boolean;
  /**
   * `downsample_padding`: 1 (default) pads the stride-2 convolutions by one pixel on every side; 0
   * pads only after (right and bottom), as TensorFlow's SAME padding in DDPM's original models.
   */
  downsamplePadding?: 0 | 1;
}

const DDPM_DEFAULTS = {
  inChannels: 3,
  outChannels: 3,
  heads: 1,
  dropout: 0,
  normGroups: 32,
  normEps: 1e-6,
  learnedVariance: false,
  flipSinToCos: false,
  freqShift: 1,
} satisfies Partial<UNetConfig>;

export const PRESETS = {
  /** Ho et al. 2020, CIFAR-10: 35.7M parameters. */
  'ddpm-cifar10': {
    ...DDPM_DEFAULTS,
    imageSize: 32,
    baseChannels: 128,
    channelMultipliers: [1, 2, 2, 2],
    resBlocksPerLevel: 2,
    attentionResolutions: [16],
    dropout: 0.1,
  },
  /** Small enough to train on Fashion-MNIST in minutes on a software GPU (images 16x16). */
  'tiny-fashion': {
    ...DDPM_DEFAULTS,
    imageSize: 16,
    inChannels: 1,
    outChannels: 1,
    baseChannels: 16,
    channelMultipliers: [1, 2],
    resBlocksPerLevel: 1,
    attentionResolutions: [8],
    normGroups: 8,
    normEps: 1e-5,
  },
  /**
   * The main command's model: Fashion-MNIST at 16x16 in minutes on a software GPU. Three levels
   * (8, 16, 32 channels at 16x16, 8x8, 4x4), attention only at 4x4: 3.5x fewer FLOPs per image than
   * tiny-fashion, which buys more training images per minute (docs/quality-runs.md).
   */
  'fashion-16': {
    ...DDPM_DEFAULTS,
    imageSize: 16,
    inChannels: 1,
    outChannels: 1,
    baseChannels: 8,
    channelMultipliers: [1, 2, 4],
    resBlocksPerLevel: 1,
    attentionResolutions: [4],
    normGroups: 4,
    normEps: 1e-5,
  },
  /** A mid-size model for Fashion-MNIST at 28x28 on a real GPU. */
  'fashion-28': {
    ...DDPM_DEFAULTS,
    imageSize: 28,
    inChannels: 1,
    outChannels: 1,
    baseChannels: 64,
    channelMultipliers: [1, 2, 2],
    resBlocksPerLevel: 2,
    attentionResolutions: [7],
    dropout: 0.1,
  },
} satisfies Record<string, UNetConfig>;

export type PresetName = keyof typeof PRESETS;

export function preset(name: string): UNetConfig {
  const p = (PRESETS as Record<string, UNetConfig>)[name];
  if (!p) throw new Error(`unknown model preset '${name}'; presets: ${Object.keys(PRESETS).join(', ')}`);
  return structuredClone(p);
}

/** Fills defaults and rejects inconsistent settings with a message naming the field. */
export function validateConfig(partial: Partial<UNetConfig>): UNetConfig {
  const c = { ...DDPM_DEFAULTS, ...partial } as UNetConfig;
  const positiveInt = (name: keyof UNetConfig) => {
    const v = c[name];
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`model config: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  for (const k of ['imageSize', 'inChannels', 'outChannels', 'baseChannels', 'resBlocksPerLevel', 'heads', 'normGroups'] as const) positiveInt(k);
  if (!Array.isArray(c.channelMultipliers) || c.channelMultipliers.length === 0 || c.channelMultipliers.some((m) => !Number.isInteger(m) || m < 1)) {
    throw new Error(`model config: channelMultipliers must be a non-empty list of positive integers`);
  }
  if (c.imageSize % 2 ** (c.channelMultipliers.length - 1) !== 0) {
    throw new Error(`model config: imageSize ${c.imageSize} must be divisible by 2^${c.channelMultipliers.length - 1} for ${c.channelMultipliers.length} levels`);
  }
  for (const m of c.channelMultipliers) {
    const ch = c.baseChannels * m;
    if (ch % c.normGroups !== 0) throw new Error(`model config: normGroups ${c.normGroups} does not divide ${ch} channels`);
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`model config: dropout must be in [0, 1), got ${c.dropout}`);
  if (!Array.isArray(c.attentionResolutions)) throw new Error('model config: attentionResolutions must be a list');
  if (c.centerInput !== undefined && typeof c.centerInput !== 'boolean') throw new Error(`model config: centerInput must be true or false, got ${JSON.stringify(c.centerInput)}`);
  if (c.midAttention !== undefined && typeof c.midAttention !== 'boolean') throw new Error(`model config: midAttention must be true or false, got ${JSON.stringify(c.midAttention)}`);
  if (c.midBlockScale !== undefined && !(typeof c.midBlockScale === 'number' && c.midBlockScale > 0 && Number.isFinite(c.midBlockScale))) {
    throw new Error(`model config: midBlockScale must be a positive number, got ${JSON.stringify(c.midBlockScale)}`);
  }
  if (c.downsamplePadding !== undefined && c.downsamplePadding !== 0 && c.downsamplePadding !== 1) {
    throw new Error(`model config: downsamplePadding must be 0 or 1, got ${JSON.stringify(c.downsamplePadding)}`);
  }
  return c;
}
