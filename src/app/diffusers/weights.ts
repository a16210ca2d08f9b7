// A UNet2DModel's weights file ↔ our parameters. The names are the same (our parameters follow
// UNet2DModel's state dict), except the attention names of diffusers before v0.15 (query, key,
// value, proj_attn), which are mapped. F32, F16 and BF16 are widened to f32; every tensor of the
// model must be there with its shape, and nothing else.

import { readSafetensors, SafetensorsError, toFloat32, writeSafetensors, type SafetensorsEntry } from '../../engine/index.ts';
import type { UNetConfig } from '../../model/config.ts';
import type { StateTensor } from '../../model/train/trainer.ts';
import { UNet } from '../../model/unet.ts';
import { DiffusersError } from './files.ts';

/** The dtypes weights may have. */
const WEIGHT_DTYPES = ['F32', 'F16', 'BF16'];

/** Legacy attention parameter names (diffusers < 0.15's AttentionBlock) → today's. */
const LEGACY_ATTENTION: Record<string, string> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };
const LEGACY_NAME = /^(.*\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/;

/** Today's name of a state-dict key. */
export function currentName(name: string): string {
  const m = LEGACY_NAME.exec(name);
  return m ? `${m[1]}.${LEGACY_ATTENTION[m[2]!]}.${m[3]}` : name;
}

/** The parameter names and shapes of the U-Net `config` describes (no GPU needed). */
export function parameterShapes(config: UNetConfig): Map<string, readonly number[]> {
  return new Map([...new UNet(config).namedParameters()].map(([name, p]) => [name, p.shape]));
}

/** The model's parameters from a weights file, checked against `config` (`file` names it in messages). */
export function unetWeights(bytes: Uint8Array, file: string, config: UNetConfig): Map<string, StateTensor> {
  const fail = (message: string): never => {
    throw new DiffusersError(`${file}: ${message}`);
  };
  let entries: Map<string, SafetensorsEntry>;
  try {
    entries = readSafetensors(bytes).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) return fail(e.message);
    throw e;
  }
  const expected = parameterShapes(config);
  const renamed = new Map<string, [string, SafetensorsEntry]>();
  for (const [name, entry] of entries) {
    const ours = currentName(name);
    const other = renamed.get(ours);
    if (other) fail(`tensors '${other[0]}' and '${name}' are both ${ours}`);
    renamed.set(ours, [name, entry]);
  }
  const extra = [...renamed.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) fail(`tensor '${renamed.get(extra[0]!)![0]}' is not a parameter of the model its config describes${extra.length > 1 ? ` (${extra.length} such tensors)` : ''}`);
  const missing = [...expected.keys()].filter((n) => !renamed.has(n));
  if (missing.length > 0) fail(`tensor '${missing[0]}' is missing${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}: the model its config describes needs it`);
  const weights = new Map<string, StateTensor>();
  for (const [name, shape] of expected) {
    const [original, entry] = renamed.get(name)!;
    if (!WEIGHT_DTYPES.includes(entry.dtype)) fail(`tensor '${original}' is ${entry.dtype}: weights must be ${WEIGHT_DTYPES.join(', ')}`);
    if (entry.shape.join(',') !== shape.join(',')) fail(`tensor '${original}' is [${entry.shape}], the model its config describes needs [${shape}]`);
    const data = toFloat32(original, entry);
    if (!data.every(Number.isFinite)) fail(`tensor '${original}' holds non-finite values`);
    weights.set(name, { shape: [...shape], data });
  }
  return weights;
}

/** A weights file as diffusers writes it: F32, names sorted, metadata {"format": "pt"}. */
export function weightsFileBytes(weights: ReadonlyMap<string, StateTensor>): Uint8Array {
  return writeSafetensors(new Map(weights), { format: 'pt' });
}
