// A diffusers UNet2DModel config.json ↔ our UNetConfig. UNET_FIELDS is the one table of every
// config field diffusers v0.31 knows: its default, and the value our U-Net computes with. Export
// writes the table's values; import reads the fields that shape the network, builds our config,
// and then checks every field of the file against the table, so any setting our U-Net does not
// compute (an activation, a time-embedding type, class conditioning, …) is refused by name.

import { validateConfig, type UNetConfig } from '../../model/config.ts';
import { DiffusersError } from './files.ts';

export const DIFFUSERS_VERSION = '0.31.0';
export const UNET_CLASS = 'UNet2DModel';

const DOWN_BLOCKS = { plain: 'DownBlock2D', attention: 'AttnDownBlock2D' } as const;
const UP_BLOCKS = { plain: 'UpBlock2D', attention: 'AttnUpBlock2D' } as const;

/** Whether level i (0 = full resolution) has self-attention. */
const attentionAt = (c: UNetConfig, level: number): boolean => c.attentionResolutions.includes(c.imageSize / 2 ** level);
const levelChannels = (c: UNetConfig): number[] => c.channelMultipliers.map((m) => m * c.baseChannels);

/** diffusers' attention_head_dim for our heads: null is one head per block; a number is a fixed head width. */
function attentionHeadDim(c: UNetConfig): number | null {
  if (c.headChannels) return c.headChannels;
  if (c.heads === 1) return null;
  const ch = levelChannels(c);
  const widths = new Set(ch.filter((_, i) => attentionAt(c, i)).concat((c.midAttention ?? true) ? [ch[ch.length - 1]!] : []).map((n) => n / c.heads));
  if (widths.size !== 1 || ![...widths].every(Number.isInteger)) {
    throw new DiffusersError(
      `${c.heads} heads at every attention block give heads of different widths (${[...widths].join(', ')}); diffusers' attention_head_dim is one width: set model.headChannels`,
    );
  }
  return [...widths][0]!;
}

interface UnetField {
  /** UNet2DModel.__init__'s default: what diffusers assumes when the key is absent. */
  default: unknown;
  /** The value of this field for the network our config computes. */
  ours: (c: UNetConfig) => unknown;
  /** Whether export writes it (v0.31's save_config writes exactly these). */
  written: boolean;
  /** Python type float: written as 1.0, not 1. */
  float?: boolean;
  /** When a file's value means the same network as ours (default: equal JSON). */
  same?: (value: unknown, ours: unknown, c: UNetConfig) => boolean;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every UNet2DModel config field, by key. */
export const UNET_FIELDS: Record<string, UnetField> = {
  sample_size: { default: null, written: true, ours: (c) => c.imageSize, same: (v, o) => v === o || sameJson(v, [o, o]) },
  in_channels: { default: 3, written: true, ours: (c) => c.inChannels },
  out_channels: { default: 3, written: true, ours: (c) => (c.learnedVariance ? 2 : 1) * c.outChannels },
  center_input_sample: { default: false, written: true, ours: (c) => c.centerInput ?? false },
  time_embedding_type: { default: 'positional', written: true, ours: () => 'positional' },
  freq_shift: { default: 0, written: true, ours: (c) => c.freqShift },
  flip_sin_to_cos: { default: true, written: true, ours: (c) => c.flipSinToCos },
  down_block_types: {
    default: ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
    written: true,
    ours: (c) => c.channelMultipliers.map((_, i) => (attentionAt(c, i) ? DOWN_BLOCKS.attention : DOWN_BLOCKS.plain)),
  },
  up_block_types: {
    default: ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
    written: true,
    ours: (c) => c.channelMultipliers.map((_, i) => (attentionAt(c, i) ? UP_BLOCKS.attention : UP_BLOCKS.plain)).reverse(),
  },
  block_out_channels: { default: [224, 448, 672, 896], written: true, ours: levelChannels },
  layers_per_block: { default: 2, written: true, ours: (c) => c.resBlocksPerLevel },
  mid_block_scale_factor: { default: 1, written: true, ours: (c) => c.midBlockScale ?? 1 },
  downsample_padding: { default: 1, written: true, ours: (c) => c.downsamplePadding ?? 1 },
  downsample_type: { default: 'conv', written: true, ours: () => 'conv' },
  upsample_type: { default: 'conv', written: true, ours: () => 'conv' },
  dropout: { default: 0, written: true, float: true, ours: (c) => c.dropout },
  act_fn: { default: 'silu', written: true, ours: () => 'silu', same: (v, o) => v === o || v === 'swish' },
  attention_head_dim: { default: 8, written: true, ours: attentionHeadDim },
  norm_num_groups: { default: 32, written: true, ours: (c) => c.normGroups },
  // A number that equals norm_num_groups gives the mid block's attention the groups it has anyway.
  attn_norm_num_groups: { default: null, written: true, ours: () => null, same: (v, _o, c) => v === null || v === c.normGroups },
  norm_eps: { default: 1e-5, written: true, float: true, ours: (c) => c.normEps },
  resnet_time_scale_shift: { default: 'default', written: true, ours: () => 'default' },
  add_attention: { default: true, written: true, ours: (c) => c.midAttention ?? true },
  class_embed_type: { default: null, written: true, ours: () => null },
  num_class_embeds: { default: null, written: true, ours: () => null },
  // Only read by a 'learned' time embedding, which is refused anyway.
  num_train_timesteps: { default: null, written: true, ours: () => null, same: () => true },
  // Keys of other diffusers versions, accepted at the values that compute our network.
  mid_block_type: { default: 'UNetMidBlock2D', written: false, ours: () => 'UNetMidBlock2D' },
  time_embedding_dim: { default: null, written: false, ours: () => null, same: (v, o) => v === o },
  attention_legacy_order: { default: false, written: false, ours: () => false },
};

/** Keys written as Python floats. */
export const UNET_FLOAT_KEYS: ReadonlySet<string> = new Set(Object.entries(UNET_FIELDS).filter(([, f]) => f.float).map(([k]) => k));

/** The config.json diffusers would write for our model (without _class_name and _diffusers_version). */
export function diffusersUnetConfig(c: UNetConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { _class_name: UNET_CLASS, _diffusers_version: DIFFUSERS_VERSION };
  for (const [key, field] of Object.entries(UNET_FIELDS)) if (field.written) out[key] = field.ours(c);
  return out;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Our UNetConfig for a UNet2DModel config.json (`file` names it in messages). `learnedVariance`:
 * the last half of out_channels is Improved DDPM's variance (the scheduler says so).
 */
export function unetConfigFromDiffusers(json: Record<string, unknown>, file: string, learnedVariance = false): UNetConfig {
  const fail = (message: string): never => {
    throw new DiffusersError(`${file}: ${message}`);
  };
  if (json._class_name !== undefined && json._class_name !== UNET_CLASS) fail(`_class_name ${JSON.stringify(json._class_name)} is not ${UNET_CLASS}`);
  for (const [key, value] of Object.entries(json)) {
    if (!key.startsWith('_') && !(key in UNET_FIELDS)) fail(`field ${key} (value ${JSON.stringify(value)}) is not a ${UNET_CLASS} setting this engine knows`);
  }
  const get = (key: string): unknown => (key in json ? json[key] : UNET_FIELDS[key]!.default);
  const int = (key: string, min = 1): number => {
    const v = get(key);
    return isInt(v) && v >= min ? v : fail(`${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  };
  const number = (key: string): number => {
    const v = get(key);
    return typeof v === 'number' && Number.isFinite(v) ? v : fail(`${key} must be a number, got ${JSON.stringify(v)}`);
  };
  const bool = (key: string): boolean => {
    const v = get(key);
    return typeof v === 'boolean' ? v : fail(`${key} must be true or false, got ${JSON.stringify(v)}`);
  };

  let size = get('sample_size');
  if (Array.isArray(size) && size.length === 2 && size[0] === size[1]) size = size[0];
  if (!isInt(size) || size < 1) fail(`sample_size ${JSON.stringify(get('sample_size'))} is not supported: this engine needs square images, one integer`);
  const channels = get('block_out_channels');
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((n) => isInt(n) && n > 0)) {
    fail(`block_out_channels must be a list of positive integers, got ${JSON.stringify(channels)}`);
  }
  const ch = channels as number[];
  const base = ch[0]!;
  if (ch.some((n) => n % base !== 0)) fail(`block_out_channels ${JSON.stringify(ch)} is not supported: every level's channels must be a multiple of the first's`);
  const down = get('down_block_types');
  const up = get('up_block_types');
  if (!Array.isArray(down) || down.length !== ch.length) fail(`down_block_types must list ${ch.length} blocks (one per block_out_channels), got ${JSON.stringify(down)}`);
  if (!Array.isArray(up) || up.length !== ch.length) fail(`up_block_types must list ${ch.length} blocks (one per block_out_channels), got ${JSON.stringify(up)}`);
  const downTypes = down as unknown[];
  const upTypes = up as unknown[];
  downTypes.forEach((t, i) => {
    if (t !== DOWN_BLOCKS.plain && t !== DOWN_BLOCKS.attention) fail(`down_block_types[${i}] ${JSON.stringify(t)} is not supported: use ${DOWN_BLOCKS.plain} or ${DOWN_BLOCKS.attention}`);
  });
  upTypes.forEach((t, i) => {
    if (t !== UP_BLOCKS.plain && t !== UP_BLOCKS.attention) fail(`up_block_types[${i}] ${JSON.stringify(t)} is not supported: use ${UP_BLOCKS.plain} or ${UP_BLOCKS.attention}`);
    const level = ch.length - 1 - i;
    if ((t === UP_BLOCKS.attention) !== (downTypes[level] === DOWN_BLOCKS.attention)) {
      fail(`up_block_types[${i}] ${JSON.stringify(t)} and down_block_types[${level}] ${JSON.stringify(downTypes[level])} disagree: this engine has attention at the same resolutions on both paths`);
    }
  });
  const outChannels = int('out_channels');
  if (learnedVariance && outChannels % 2 !== 0) fail(`out_channels ${outChannels} must be even for a learned variance (ε and the variance, half each)`);
  const headDim = get('attention_head_dim');
  if (headDim !== null && !(isInt(headDim) && headDim > 0)) fail(`attention_head_dim must be a positive integer or null, got ${JSON.stringify(headDim)}`);
  const attnChannels = ch.filter((_, i) => downTypes[i] === DOWN_BLOCKS.attention).concat(get('add_attention') === false ? [] : [ch[ch.length - 1]!]);
  const bad = attnChannels.find((n) => headDim !== null && n % (headDim as number) !== 0);
  if (bad !== undefined) fail(`attention_head_dim ${String(headDim)} does not divide the ${bad} channels of an attention block`);
  const padding = get('downsample_padding');
  if (padding !== 0 && padding !== 1) fail(`downsample_padding ${JSON.stringify(padding)} is not supported: use 0 or 1`);
  const scale = number('mid_block_scale_factor');

  const partial: Partial<UNetConfig> = {
    imageSize: size as number,
    inChannels: int('in_channels'),
    outChannels: learnedVariance ? outChannels / 2 : outChannels,
    baseChannels: base,
    channelMultipliers: ch.map((n) => n / base),
    resBlocksPerLevel: int('layers_per_block'),
    attentionResolutions: downTypes.flatMap((t, i) => (t === DOWN_BLOCKS.attention ? [(size as number) / 2 ** i] : [])),
    heads: 1,
    ...(headDim !== null ? { headChannels: headDim as number } : {}),
    dropout: number('dropout'),
    normGroups: int('norm_num_groups'),
    normEps: number('norm_eps'),
    learnedVariance,
    flipSinToCos: bool('flip_sin_to_cos'),
    freqShift: number('freq_shift'),
    ...(bool('center_input_sample') ? { centerInput: true } : {}),
    ...(scale !== 1 ? { midBlockScale: scale } : {}),
    ...(bool('add_attention') ? {} : { midAttention: false }),
    ...(padding === 0 ? { downsamplePadding: 0 as const } : {}),
  };
  let config: UNetConfig;
  try {
    config = validateConfig(partial);
  } catch (e) {
    return fail((e as Error).message);
  }
  // Every field of the file must describe the network this config computes.
  for (const [key, field] of Object.entries(UNET_FIELDS)) {
    const value = get(key);
    const ours = field.ours(config);
    if (!(field.same ?? sameJson)(value, ours, config)) {
      fail(`${key} ${JSON.stringify(value)} is not supported: this engine computes ${JSON.stringify(ours)}${key in json ? '' : ` (the field is absent, and diffusers' default is ${JSON.stringify(value)})`}`);
    }
  }
  return config;
}
