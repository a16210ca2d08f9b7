// diffusers folders in and out (src/app/diffusers/), on the CPU: the fixture's UNet2DModel folder
// (written by diffusers 0.31) imports and exports byte for byte, pipelines round-trip, F16/BF16
// and legacy attention names load, our schedules without a diffusers formula say so, and every
// unsupported setting is refused by name.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../../src/engine/safetensors.ts';
import { refArray, refConv2d } from '../../src/engine/reference/index.ts';
import { diffusersFromCheckpoint, checkpointFromDiffusers } from '../../src/app/diffusers/checkpoint.ts';
import { mapSource } from '../../src/app/diffusers/files.ts';
import { exportDiffusers, importDiffusers } from '../../src/app/diffusers/pipeline.ts';
import { pythonJson } from '../../src/app/diffusers/python-json.ts';
import { parameterShapes } from '../../src/app/diffusers/weights.ts';
import { diffusersSchedulerConfig, diffusionFromScheduler } from '../../src/app/diffusers/scheduler-config.ts';
import { checkpointOfWeights } from '../../src/model/train/checkpoint.ts';
import { makeTrainConfig } from '../../src/model/train/trainer.ts';
import { makeSchedule } from '../../src/model/diffusion/schedule.ts';
import { preset } from '../../src/model/config.ts';
import { Downsample2D } from '../../src/model/nn/layers.ts';
import { referenceBackend, refVar, type RefVar } from '../../src/model/nn/reference-backend.ts';
import type { Parameter } from '../../src/model/nn/module.ts';
import { UNet } from '../../src/model/unet.ts';
import { Rng } from '../../src/engine/random.ts';

const fixture = new URL('../fixtures/torch-reference/tiny_unet/', import.meta.url);
const configBytes = new Uint8Array(readFileSync(new URL('config.json', fixture)));
const weightBytes = new Uint8Array(readFileSync(new URL('diffusion_pytorch_model.safetensors', fixture)));
const fixtureConfig = JSON.parse(new TextDecoder().decode(configBytes));
const enc = (s: string) => new TextEncoder().encode(s);

/** safetensors bytes with any dtypes and raw data, written as diffusers does (sorted, padded header). */
export function rawSafetensors(entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[], metadata = { format: 'pt' }): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let at = 0;
  for (const e of sorted) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.bytes.length] };
    at += e.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(enc(json), 8);
  let p = 8 + json.length;
  for (const e of sorted) {
    out.set(e.bytes, p);
    p += e.bytes.length;
  }
  return out;
}

/** A DDPM/DDIM pipeline folder around the fixture's UNet. */
function pipelineFolder(scheduler: Record<string, unknown>, pipeline = 'DDPMPipeline', unet: { config: Uint8Array; weights: Uint8Array } = { config: configBytes, weights: weightBytes }): Map<string, Uint8Array> {
  return new Map([
    ['model_index.json', enc(pythonJson({ _class_name: pipeline, _diffusers_version: '0.31.0', scheduler: ['diffusers', scheduler._class_name], unet: ['diffusers', 'UNet2DModel'] }))],
    ['unet/config.json', unet.config],
    ['unet/diffusion_pytorch_model.safetensors', unet.weights],
    ['scheduler/scheduler_config.json', enc(pythonJson(scheduler, new Set(['beta_start', 'beta_end', 'clip_sample_range', 'sample_max_value', 'dynamic_thresholding_ratio', 'trained_betas'])))],
  ]);
}

const unetFolder = (config: Record<string, unknown> = fixtureConfig, weights: Uint8Array = weightBytes) =>
  mapSource({ 'config.json': enc(JSON.stringify(config)), 'diffusion_pytorch_model.safetensors': weights });

describe('the fixture UNet2DModel folder', () => {
  test('imports as our config: 8x8x3, channels 16/32, attention at 4x4, head dim 4, diffusers embedding', () => {
    const m = importDiffusers(mapSource({ 'config.json': configBytes, 'diffusion_pytorch_model.safetensors': weightBytes }));
    expect(m.layout).toBe('unet');
    expect(m.config.model).toMatchObject({
      imageSize: 8,
      inChannels: 3,
      outChannels: 3,
      baseChannels: 16,
      channelMultipliers: [1, 2],
      resBlocksPerLevel: 1,
      attentionResolutions: [4],
      headChannels: 4,
      normGroups: 4,
      normEps: 1e-5,
      flipSinToCos: true,
      freqShift: 0,
    });
    expect(m.weights.size).toBe(144);
    expect(m.notes[0]).toMatch(/DDPMScheduler's defaults assumed/);
  });

  test('exports byte for byte as diffusers wrote it: config.json and the weights file (header, names, dtypes, metadata)', () => {
    const { bytes } = checkpointFromDiffusers(mapSource({ 'config.json': configBytes, 'diffusion_pytorch_model.safetensors': weightBytes }), true);
    for (const weights of ['ema', 'raw'] as const) {
      const { files } = diffusersFromCheckpoint(bytes, { weights, layout: 'unet' });
      expect([...files.keys()].sort()).toEqual(['config.json', 'diffusion_pytorch_model.safetensors']);
      expect(new TextDecoder().decode(files.get('config.json'))).toBe(new TextDecoder().decode(configBytes));
      expect(Buffer.from(files.get('diffusion_pytorch_model.safetensors')!).equals(Buffer.from(weightBytes))).toBe(true);
    }
    const { files } = diffusersFromCheckpoint(bytes);
    const out = files.get('unet/diffusion_pytorch_model.safetensors')!;
    const headerLength = Number(new DataView(out.buffer, out.byteOffset).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + headerLength)));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toEqual([...names].sort());
    expect(new Set(names.map((n) => header[n].dtype))).toEqual(new Set(['F32']));
    expect(Object.keys(JSON.parse(new TextDecoder().decode(files.get('unet/config.json'))))).toEqual(Object.keys(fixtureConfig));
    expect(JSON.parse(new TextDecoder().decode(files.get('model_index.json')))).toEqual({
      _class_name: 'DDPMPipeline',
      _diffusers_version: '0.31.0',
      scheduler: ['diffusers', 'DDPMScheduler'],
      unet: ['diffusers', 'UNet2DModel'],
    });
  });

  test('F16 and BF16 weights are widened to f32; legacy attention names (query, key, value, proj_attn) are mapped', () => {
    const f32 = readSafetensors(weightBytes).tensors;
    const toHalf = (v: number): number => {
      const sign = v < 0 ? 0x8000 : 0;
      const a = Math.abs(v);
      if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
      const e = Math.floor(Math.log2(a));
      return sign | ((e + 15) << 10) | Math.floor((a / 2 ** e - 1) * 1024);
    };
    const fromHalf = (h: number) => {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      return e === 0 ? s * (h & 0x3ff) * 2 ** -24 : s * (1 + (h & 0x3ff) / 1024) * 2 ** (e - 15);
    };
    const legacy = (n: string) => n.replace('.to_q.', '.query.').replace('.to_k.', '.key.').replace('.to_v.', '.value.').replace('.to_out.0.', '.proj_attn.');
    for (const dtype of ['F16', 'BF16']) {
      const entries = [...f32].map(([name, t]) => {
        const values = t.data as Float32Array;
        const words = new Uint16Array(values.length);
        values.forEach((v, i) => (words[i] = dtype === 'F16' ? toHalf(v) : new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16));
        return { name: legacy(name), dtype, shape: t.shape, bytes: new Uint8Array(words.buffer) };
      });
      expect(entries.some((e) => e.name.endsWith('.proj_attn.weight'))).toBe(true);
      const m = importDiffusers(unetFolder(fixtureConfig, rawSafetensors(entries)));
      for (const [name, t] of f32) {
        const got = m.weights.get(name)!.data;
        const values = t.data as Float32Array;
        const want = dtype === 'F16' ? values.map((v) => fromHalf(toHalf(v))) : values.map((v) => new Float32Array(new Uint32Array([(new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16) << 16]).buffer)[0]!);
        expect(Array.from(got), `${dtype} ${name}`).toEqual(Array.from(want));
      }
    }
  });
});

describe('pipelines', () => {
  const ddimScheduler = {
    _class_name: 'DDIMScheduler',
    _diffusers_version: '0.31.0',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    clip_sample_range: 2.0,
    dynamic_thresholding_ratio: 0.995,
    num_train_timesteps: 1000,
    prediction_type: 'v_prediction',
    rescale_betas_zero_snr: false,
    sample_max_value: 1.0,
    set_alpha_to_one: false,
    steps_offset: 1,
    thresholding: false,
    timestep_spacing: 'trailing',
    trained_betas: null,
  };

  test('a DDIMPipeline imports with its conventions and round-trips byte for byte (import → export → import: same config and tensors)', () => {
    const folder = pipelineFolder(ddimScheduler, 'DDIMPipeline');
    const first = importDiffusers(mapSource(folder));
    expect(first.config.diffusion).toMatchObject({
      schedule: { type: 'quadratic', T: 1000, betaStart: 0.00085, betaEnd: 0.012 },
      objective: 'v',
      diffusers: { scheduler: 'ddim', pipeline: 'ddim', timestepSpacing: 'trailing', stepsOffset: 1, setAlphaToOne: false, clipSample: false, clipSampleRange: 2 },
    });
    const { files } = exportDiffusers(checkpointOfWeights(first.config, first.weights, true));
    expect([...files.keys()].sort()).toEqual([...folder.keys()].sort());
    for (const [name, bytes] of folder) expect(new TextDecoder().decode(files.get(name)).slice(0, 4000), name).toBe(new TextDecoder().decode(bytes).slice(0, 4000));
    for (const [name, bytes] of folder) expect(Buffer.from(files.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);
    const second = importDiffusers(mapSource(files));
    expect(second.config).toEqual(first.config);
    expect([...second.weights.keys()]).toEqual([...first.weights.keys()]);
    for (const [name, t] of first.weights) expect(Buffer.from(second.weights.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
  });

  test('a learned variance (learned_range) doubles out_channels; trained_betas round-trip', () => {
    const w = readSafetensors(weightBytes).tensors;
    const entries = [...w].map(([name, t]) => {
      const data = t.data as Float32Array;
      const doubled = name.startsWith('conv_out.') ? Float32Array.from([...data, ...data]) : data;
      return { name, dtype: 'F32', shape: name.startsWith('conv_out.') ? [t.shape[0]! * 2, ...t.shape.slice(1)] : t.shape, bytes: new Uint8Array(doubled.buffer.slice(0)) };
    });
    const betas = Array.from({ length: 100 }, (_, i) => 1e-4 + i * 2e-4);
    const scheduler = { _class_name: 'DDPMScheduler', num_train_timesteps: 100, trained_betas: betas, variance_type: 'learned_range' };
    const folder = pipelineFolder(scheduler, 'DDPMPipeline', { config: enc(JSON.stringify({ ...fixtureConfig, out_channels: 6 })), weights: rawSafetensors(entries) });
    const m = importDiffusers(mapSource(folder));
    expect(m.config.model).toMatchObject({ outChannels: 3, learnedVariance: true });
    expect(m.config.diffusion).toMatchObject({ variance: 'learned', schedule: { T: 100, betas } });
    expect(Array.from(makeSchedule(m.config.diffusion.schedule).betas)).toEqual(betas);
    const { files } = exportDiffusers(checkpointOfWeights(m.config, m.weights, false));
    expect(JSON.parse(new TextDecoder().decode(files.get('unet/config.json'))).out_channels).toBe(6);
    const s = JSON.parse(new TextDecoder().decode(files.get('scheduler/scheduler_config.json')));
    expect(s).toMatchObject({ variance_type: 'learned_range', trained_betas: betas, num_train_timesteps: 100 });
    expect(importDiffusers(mapSource(files)).config).toEqual(m.config);
  });

  test('our schedules: linear rescaled with T and quadratic have exact diffusers forms; a cosine with another s and sigmoid under DDIM say so and go as trained_betas', () => {
    const base = { schedule: { type: 'linear' as const, T: 500, scaleWithT: true } };
    const linear = diffusersSchedulerConfig(makeTrainConfig({ model: preset('fashion-16'), diffusion: base }).diffusion, 'ddpm');
    expect(linear.notes).toEqual([]);
    expect(linear.json).toMatchObject({ beta_schedule: 'linear', beta_start: 2e-4, beta_end: 0.04, num_train_timesteps: 500, trained_betas: null, variance_type: 'fixed_large' });
    const back = makeSchedule(diffusionFromScheduler(linear.json, 'x').schedule).betas;
    const ours = makeSchedule(base.schedule).betas;
    back.forEach((b, i) => expect(Math.abs(b - ours[i]!)).toBeLessThan(1e-15));
    for (const [schedule, kind, why] of [
      [{ type: 'cosine' as const, T: 1000, cosineS: 0.01 }, 'ddpm', /cosine schedule with s = 0.01 .* has no diffusers beta_schedule/],
      [{ type: 'sigmoid' as const, T: 1000 }, 'ddim', /DDIMScheduler has no sigmoid beta_schedule/],
    ] as const) {
      const r = diffusersSchedulerConfig(makeTrainConfig({ model: preset('fashion-16'), diffusion: { schedule } }).diffusion, kind);
      expect(r.notes[0]).toMatch(why);
      expect(r.notes[0]).toMatch(/written as trained_betas \(its 1000 values, exactly\)/);
      expect(r.json.trained_betas).toEqual(Array.from(makeSchedule(schedule).betas));
    }
    const cosine = diffusersSchedulerConfig(makeTrainConfig({ model: preset('fashion-16'), diffusion: { schedule: { type: 'cosine', T: 1000 } } }).diffusion, 'ddpm');
    expect(cosine).toMatchObject({ notes: [], json: { beta_schedule: 'squaredcos_cap_v2', trained_betas: null } });
  });

  test('ddpm-cifar10 exports as google/ddpm-cifar10-32 is configured (TF SAME downsampling aside)', () => {
    const config = makeTrainConfig({ model: preset('ddpm-cifar10') });
    const zeros = new Map([...parameterShapes(config.model)].map(([name, shape]) => [name, { shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
    const json = exportDiffusers(checkpointOfWeights(config, zeros, false), { layout: 'unet' }).files.get('config.json')!;
    expect(JSON.parse(new TextDecoder().decode(json))).toMatchObject({
      block_out_channels: [128, 256, 256, 256],
      down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
      attention_head_dim: null,
      flip_sin_to_cos: false,
      freq_shift: 1,
      norm_eps: 1e-6,
      dropout: 0.1,
      layers_per_block: 2,
    });
  });
});

describe('refusals name the field and its value', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an activation', { act_fn: 'gelu' }, /act_fn "gelu" is not supported: this engine computes "silu"/],
    ['scale-shift time conditioning', { resnet_time_scale_shift: 'scale_shift' }, /resnet_time_scale_shift "scale_shift" is not supported/],
    ['a fourier time embedding', { time_embedding_type: 'fourier' }, /time_embedding_type "fourier" is not supported/],
    ['class conditioning', { num_class_embeds: 10 }, /num_class_embeds 10 is not supported: this engine computes null/],
    ['an unknown field', { use_linear_projection: true }, /field use_linear_projection \(value true\) is not a UNet2DModel setting/],
    ['a block type', { down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'] }, /down_block_types\[1\] "CrossAttnDownBlock2D" is not supported/],
    ['attention on one path only', { up_block_types: ['UpBlock2D', 'UpBlock2D'] }, /up_block_types\[0\] "UpBlock2D" and down_block_types\[1\] "AttnDownBlock2D" disagree/],
    ['non-square images', { sample_size: [8, 16] }, /sample_size \[8,16\] is not supported: this engine needs square images/],
    ['uneven channels', { block_out_channels: [16, 24] }, /block_out_channels \[16,24\] is not supported/],
    ['resnet downsampling', { downsample_type: 'resnet' }, /downsample_type "resnet" is not supported/],
    ['a head width that does not divide', { attention_head_dim: 5 }, /attention_head_dim 5 does not divide the 32 channels/],
    ['an absent field takes diffusers\' default', { sample_size: undefined }, /sample_size null is not supported/],
  ];
  test('an absent attention_head_dim is diffusers\' default 8 (four heads of the 32 channels)', () => {
    const { attention_head_dim: _, ...config } = fixtureConfig;
    const w = readSafetensors(weightBytes).tensors;
    expect(importDiffusers(unetFolder(config, rawSafetensors([...w].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, bytes: new Uint8Array((t.data as Float32Array).buffer) }))))).config.model.headChannels).toBe(8);
  });

  for (const [what, change, message] of cases) {
    test(what, () => {
      const config = { ...fixtureConfig, ...change };
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete config[k];
      expect(() => importDiffusers(unetFolder(config))).toThrow(message);
    });
  }

  const scheduler: [string, Record<string, unknown>, RegExp][] = [
    ['thresholding', { thresholding: true }, /thresholding true is not supported/],
    ['another scheduler', { _class_name: 'PNDMScheduler' }, /model_index.json: component scheduler \["diffusers","PNDMScheduler"\] is not supported/],
    ['a variance type', { variance_type: 'fixed_large_log' }, /variance_type "fixed_large_log" is not supported: use fixed_small, fixed_large, learned_range/],
    ['a beta schedule', { beta_schedule: 'exp' }, /beta_schedule "exp" is not supported/],
    ['a prediction type', { prediction_type: 'flow' }, /prediction_type "flow" is not supported: use epsilon, sample, v_prediction/],
    ['a spacing', { timestep_spacing: 'karras' }, /timestep_spacing "karras" is not supported/],
    ['zero terminal SNR', { rescale_betas_zero_snr: true }, /rescale_betas_zero_snr true is not supported/],
    ['a DDIM field in DDPM', { set_alpha_to_one: false }, /field set_alpha_to_one \(value false\) is not a DDPMScheduler setting/],
  ];
  for (const [what, change, message] of scheduler) {
    test(`scheduler: ${what}`, () => {
      expect(() => importDiffusers(mapSource(pipelineFolder({ _class_name: 'DDPMScheduler', ...change })))).toThrow(message);
    });
  }

  test('a pickle is never read; the message says how to convert it', () => {
    const folder = new Map([['config.json', configBytes], ['diffusion_pytorch_model.bin', enc('\x80\x02}q\x00.')]]);
    expect(() => importDiffusers(mapSource(folder))).toThrow(/diffusion_pytorch_model.bin is a PyTorch pickle, which this engine never loads .*save_pretrained\('DIR-safetensors', safe_serialization=True\)/);
  });
});

describe("our U-Net computes diffusers' optional settings", () => {
  const rng = new Rng(3);
  const randomVars = (model: UNet) => {
    const vars = new Map<Parameter, RefVar>();
    for (const [, p] of model.namedParameters()) vars.set(p, refVar(p.shape, Array.from({ length: p.size }, () => rng.normal() * 0.2)));
    return vars;
  };

  test('downsample_padding 0 is a zero row and column after the image, then the stride-2 convolution', () => {
    const layer = new Downsample2D(2, 0);
    const vars = new Map<Parameter, RefVar>();
    for (const [, p] of layer.namedParameters()) vars.set(p, refVar(p.shape, Array.from({ length: p.size }, () => rng.normal())));
    const x = Array.from({ length: 2 * 2 * 6 * 6 }, () => rng.normal());
    const ours = layer.forward(referenceBackend(vars), refVar([2, 2, 6, 6], x)).value;
    const padded = new Float64Array(2 * 2 * 7 * 7);
    for (let i = 0; i < x.length; i++) {
      const [nc, h, w] = [Math.floor(i / 36), Math.floor(i / 6) % 6, i % 6];
      padded[nc * 49 + h * 7 + w] = x[i]!;
    }
    const [bias, weight] = [...layer.namedParameters()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, p]) => vars.get(p)!.value);
    const want = refConv2d(refArray([2, 2, 7, 7], padded), weight!, bias!, { stride: 2, padding: 0 });
    expect(ours.shape).toEqual([2, 2, 3, 3]);
    Array.from(ours.data).forEach((v, i) => expect(v).toBeCloseTo(want.data[i]!, 12));
  });

  test('center_input_sample: the network of 2x − 1; add_attention false: no mid-block attention', () => {
    const config = { ...preset('fashion-16'), normGroups: 4 };
    const centered = new UNet({ ...config, centerInput: true });
    const plain = new UNet(config);
    const vars = randomVars(centered);
    const byName = new Map(centered.namedParameters());
    const plainVars = new Map([...plain.namedParameters()].map(([name, p]) => [p, vars.get(byName.get(name)!)!]));
    const x = Array.from({ length: 16 * 16 }, () => rng.uniform());
    const t = refVar([1], [321]);
    const a = centered.forwardWith(referenceBackend(vars), refVar([1, 1, 16, 16], x), t).value.data;
    const b = plain.forwardWith(referenceBackend(plainVars), refVar([1, 1, 16, 16], x.map((v) => 2 * v - 1)), t).value.data;
    Array.from(a).forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 10));
    const names = [...new UNet({ ...config, midAttention: false }).namedParameters()].map(([name]) => name);
    expect(names.some((n) => n.startsWith('mid_block.attentions'))).toBe(false);
    expect(names.filter((n) => n.startsWith('mid_block.resnets')).length).toBeGreaterThan(0);
  });
});
