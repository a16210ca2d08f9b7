// `ddpm unet-forward`: one forward pass of a model (a diffusers folder or a checkpoint) on inputs
// from a safetensors file, as diffusers' UNet2DModel(sample, timestep).sample. Everything is
// checked before the browser starts.

import { readSafetensors, SafetensorsError, writeSafetensors, type SafetensorsEntry } from '../../engine/index.ts';
import { UsageError, type Command } from '../command.ts';
import { readBytes, writeFileAtomic } from '../files.ts';
import { progress, withHarness } from '../harness.ts';
import { modelSource } from '../model-source.ts';
import { callSession, sendBytes, takeBytes } from '../session-client.ts';

/** `sample` [N, C, H, W] (F32) and `timestep` ([N] or a scalar, I64 or F32) of an input file. */
export function forwardInput(bytes: Uint8Array, file: string, want: { channels: number; size: number }): { shape: number[]; sample: Float32Array; timesteps: number[] } {
  const fail = (message: string): never => {
    throw new Error(`input ${file}: ${message}`);
  };
  let tensors: Map<string, SafetensorsEntry>;
  try {
    tensors = readSafetensors(bytes).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) return fail(e.message);
    throw e;
  }
  const extra = [...tensors.keys()].find((n) => n !== 'sample' && n !== 'timestep');
  if (extra !== undefined) fail(`tensor '${extra}' is not an input (the file holds 'sample' and 'timestep')`);
  const sample = tensors.get('sample') ?? fail("tensor 'sample' is missing");
  const t = tensors.get('timestep') ?? fail("tensor 'timestep' is missing");
  if (sample.dtype !== 'F32') fail(`'sample' is ${sample.dtype}, expected F32`);
  const [n, c, h, w] = sample.shape;
  if (sample.shape.length !== 4 || c !== want.channels || h !== want.size || w !== want.size || n === 0) {
    fail(`'sample' is [${sample.shape}], the model takes [N, ${want.channels}, ${want.size}, ${want.size}]`);
  }
  if (t.dtype !== 'I64' && t.dtype !== 'F32') fail(`'timestep' is ${t.dtype}, expected I64 or F32`);
  const values = Array.from(t.data as ArrayLike<number | bigint>, Number);
  if (!(t.shape.length === 0 || (t.shape.length === 1 && (t.shape[0] === n || t.shape[0] === 1)))) {
    fail(`'timestep' is [${t.shape}]: give one per image ([${n}]) or a scalar`);
  }
  if (!values.every(Number.isFinite)) fail("'timestep' holds non-finite values");
  const timesteps = values.length === n ? values : new Array<number>(n!).fill(values[0]!);
  return { shape: sample.shape, sample: sample.data as Float32Array, timesteps };
}

export const unetForward: Command = {
  usage: 'unet-forward --model DIR|--ckpt FILE --input IN.safetensors --output OUT.safetensors',
  summary:
    "the network's output for 'sample' [N,C,H,W] (F32) at 'timestep' ([N] or scalar, I64 or F32) of IN, as diffusers' UNet2DModel(sample, timestep).sample, into OUT's 'sample'",
  flags: {
    model: { type: 'string' },
    ckpt: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
  },
  async run(flags) {
    if (typeof flags.input !== 'string') throw new UsageError('--input IN.safetensors is required');
    if (typeof flags.output !== 'string') throw new UsageError('--output OUT.safetensors is required');
    const { bytes, parsed, label } = modelSource(flags);
    const m = parsed.config.model;
    const input = forwardInput(readBytes(flags.input, 'input'), flags.input, { channels: m.inChannels, size: m.imageSize });
    const out = await withHarness(async (s) => {
      await sendBytes(s, bytes);
      progress(`forward pass of ${label} on ${input.shape[0]} images…`);
      const sample = Buffer.from(input.sample.buffer, input.sample.byteOffset, input.sample.byteLength).toString('base64');
      const offered = await callSession(s, 'unetForward', { shape: input.shape, timesteps: input.timesteps, sample });
      const raw = await takeBytes(s, offered);
      return { shape: offered.shape, data: new Float32Array(raw.slice().buffer) };
    });
    writeFileAtomic(flags.output, writeSafetensors({ sample: out }, { format: 'pt' }));
    progress(`wrote ${flags.output}: 'sample' [${out.shape}]`);
    return 0;
  },
};
