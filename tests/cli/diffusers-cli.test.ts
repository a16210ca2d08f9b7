// `ddpm convert` and `ddpm unet-forward` on diffusers folders: a corpus of broken files and
// folders, each refused by both commands with its own message, exit code 1, no output file and the
// input left byte for byte as it was (all before a browser starts); the CLI round trip; and one
// forward pass end to end against PyTorch.

import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runDdpm } from '../setup/hang-guard.ts';
import { readSafetensors, writeSafetensors } from '../../src/engine/safetensors.ts';

// Hang guard: at least 5x the slowest run measured on one pinned core (unet-forward, 10 s).
const ddpm = (...args: string[]) => runDdpm(args, { limitMs: 300_000 });

const fixture = new URL('../fixtures/torch-reference/tiny_unet/', import.meta.url);
const fixturePath = fixture.pathname;
const weights = new Uint8Array(readFileSync(new URL('diffusion_pytorch_model.safetensors', fixture)));
const config = JSON.parse(readFileSync(new URL('config.json', fixture), 'utf8'));
const io = readSafetensors(readFileSync(new URL('io.safetensors', fixture))).tensors;
const WEIGHTS = 'diffusion_pytorch_model.safetensors';

/** The weights file's header (parsed) and data section. */
const headerLength = Number(new DataView(weights.buffer, weights.byteOffset).getBigUint64(0, true));
const header = (): Record<string, any> => JSON.parse(new TextDecoder().decode(weights.subarray(8, 8 + headerLength)));
const data = weights.subarray(8 + headerLength);

/** A safetensors file from header text and data bytes (the length prefix computed, the header padded to 8). */
function fromHeader(text: string, body: Uint8Array = data): Uint8Array {
  const padded = text + ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const h = Buffer.from(padded);
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

const names = Object.keys(header()).filter((k) => k !== '__metadata__').sort((a, b) => header()[a].data_offsets[0] - header()[b].data_offsets[0]);
const [first, second] = [names[0]!, names[1]!];

/** Each broken folder: the files that differ from the valid one (null: removed), and what the refusal says. */
const CORPUS: { name: string; files: Record<string, Uint8Array | string | null>; message: RegExp }[] = [
  { name: 'truncated data', files: { [WEIGHTS]: weights.subarray(0, weights.length - 100) }, message: /ends past the file's \d+ data bytes: truncated/ },
  {
    name: 'header length past the end',
    files: { [WEIGHTS]: (() => { const b = weights.slice(); new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true); return b; })() },
    message: /header length \d+ exceeds the file \(\d+ bytes\)/,
  },
  { name: 'header not JSON', files: { [WEIGHTS]: fromHeader(`x${JSON.stringify(header()).slice(1)}`) }, message: /header is not valid UTF-8 JSON/ },
  {
    name: 'unknown dtype',
    files: { [WEIGHTS]: fromHeader(JSON.stringify({ ...header(), [first]: { ...header()[first], dtype: 'F31' } })) },
    message: new RegExp(`tensor '${first}' has unknown dtype "F31"`),
  },
  {
    name: 'shape that disagrees with the bytes',
    files: { [WEIGHTS]: fromHeader(JSON.stringify({ ...header(), [first]: { ...header()[first], shape: [header()[first].shape[0] + 1, ...header()[first].shape.slice(1)] } })) },
    message: new RegExp(`tensor '${first}' F32 \\[[\\d,]+\\] needs \\d+ bytes but its data_offsets`),
  },
  {
    name: 'overlapping ranges',
    files: {
      [WEIGHTS]: (() => {
        const h = header();
        const [b, e] = h[second].data_offsets;
        h[second].data_offsets = [b - 4, e - 4];
        return fromHeader(JSON.stringify(h));
      })(),
    },
    message: new RegExp(`tensor '${second}' \\[\\d+, \\d+\\] overlaps tensor '${first}'`),
  },
  {
    name: 'a gap',
    files: {
      [WEIGHTS]: (() => {
        const h = header();
        const end = h[first].data_offsets[1];
        for (const n of names.slice(1)) h[n].data_offsets = h[n].data_offsets.map((o: number) => o + 8);
        const body = new Uint8Array(data.length + 8);
        body.set(data.subarray(0, end));
        body.set(data.subarray(end), end + 8);
        return fromHeader(JSON.stringify(h), body);
      })(),
    },
    message: new RegExp(`tensor '${second}' starts at data byte \\d+, leaving a gap after byte \\d+ \\(end of '${first}'\\)`),
  },
  {
    name: 'duplicate names',
    files: { [WEIGHTS]: fromHeader(JSON.stringify(header()).replace(/}$/, `,"${first}":${JSON.stringify(header()[first])}}`)) },
    message: new RegExp(`tensor '${first}' appears twice in the header`),
  },
  {
    name: 'a missing tensor',
    files: { [WEIGHTS]: (() => { const t = readSafetensors(weights).tensors as Map<string, any>; t.delete('conv_out.bias'); return writeSafetensors(t, { format: 'pt' }); })() },
    message: /tensor 'conv_out.bias' is missing: the model its config describes needs it/,
  },
  {
    name: 'an extra tensor',
    files: { [WEIGHTS]: (() => { const t = readSafetensors(weights).tensors as Map<string, any>; t.set('class_embedding.weight', { shape: [2], data: new Float32Array(2) }); return writeSafetensors(t, { format: 'pt' }); })() },
    message: /tensor 'class_embedding.weight' is not a parameter of the model its config describes/,
  },
  {
    name: 'an unsupported block type',
    files: { 'config.json': JSON.stringify({ ...config, down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'] }) },
    message: /config.json: down_block_types\[1\] "CrossAttnDownBlock2D" is not supported: use DownBlock2D or AttnDownBlock2D/,
  },
  {
    name: 'a pickle .bin',
    files: { [WEIGHTS]: null, 'diffusion_pytorch_model.bin': new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]) },
    message: /diffusion_pytorch_model.bin is a PyTorch pickle, which this engine never loads .*UNet2DModel.from_pretrained\('DIR'\).save_pretrained\('DIR-safetensors', safe_serialization=True\)/,
  },
  { name: 'config.json not JSON', files: { 'config.json': '{"sample_size": 8,' }, message: /config.json is not valid JSON/ },
  { name: 'an unsupported activation', files: { 'config.json': JSON.stringify({ ...config, act_fn: 'mish' }) }, message: /config.json: act_fn "mish" is not supported: this engine computes "silu"/ },
];

/** Every file under `dir` with its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

/** A valid input for the fixture's model: its x and integer timesteps. */
function inputFile(dir: string, timestep: { dtype: 'I64' | 'F32'; values: readonly number[] }): string {
  const path = join(dir, 'in.safetensors');
  const x = io.get('x')!;
  const sample = new Uint8Array((x.data as Float32Array).buffer.slice(0));
  const t = timestep.dtype === 'I64' ? BigInt64Array.from(timestep.values.map(BigInt)) : Float32Array.from(timestep.values);
  const entries = [
    { name: 'sample', dtype: 'F32', shape: x.shape, bytes: sample },
    { name: 'timestep', dtype: timestep.dtype, shape: timestep.values.length === 1 ? [] : [timestep.values.length], bytes: new Uint8Array(t.buffer) },
  ];
  const h: Record<string, unknown> = {};
  let at = 0;
  for (const e of entries) {
    h[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.bytes.length] };
    at += e.bytes.length;
  }
  const body = new Uint8Array(at);
  body.set(entries[0]!.bytes);
  body.set(entries[1]!.bytes, entries[0]!.bytes.length);
  writeFileSync(path, fromHeader(JSON.stringify(h), body));
  return path;
}

describe('ddpm convert and unet-forward on diffusers folders', () => {
  const table: string[] = [];
  for (const c of CORPUS) {
    test(`refuses ${c.name}: own message, exit 1, no output, input untouched, no browser`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'ddpm-corpus-'));
      const dir = join(root, 'model');
      cpSync(fixturePath, dir, { recursive: true, filter: (src) => !/io\.|ddim_sampling|model_repr/.test(src) });
      for (const [name, bytes] of Object.entries(c.files)) {
        if (bytes === null) rmSync(join(dir, name));
        else writeFileSync(join(dir, name), bytes);
      }
      const before = snapshot(dir);
      const input = inputFile(root, { dtype: 'I64', values: [10, 777] });
      const out = join(root, 'out.safetensors');
      const ckpt = join(root, 'ckpt.safetensors');
      for (const [args, output] of [
        [['unet-forward', '--model', dir, '--input', input, '--output', out], out],
        [['convert', '--from-diffusers', dir, '--out', ckpt], ckpt],
      ] as const) {
        const r = await ddpm(...args);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(c.message);
        expect(r.stderr).not.toMatch(/starting Chromium/);
        expect(existsSync(output)).toBe(false);
        expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
        if (args[0] === 'convert') table.push(`| ${c.name} | ${r.stderr.trim().replace(/^ddpm: /, '')} |`);
      }
      const after = snapshot(dir);
      expect([...after.keys()]).toEqual([...before.keys()]);
      for (const [name, bytes] of before) expect(after.get(name)!.equals(bytes), name).toBe(true);
    });
  }
  test('the corpus (printed)', () => {
    expect(table.length).toBe(CORPUS.length);
    console.log(['| case | message |', '| --- | --- |', ...table].join('\n'));
  });

  test('unet-forward refuses inputs that do not fit the model before starting a browser', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ddpm-input-'));
    const bad = join(root, 'bad.safetensors');
    writeFileSync(bad, writeSafetensors({ sample: { shape: [2, 3, 4, 4], data: new Float32Array(96) }, timestep: { shape: [2], data: new Float32Array(2) } }));
    const r = await ddpm('unet-forward', '--model', fixturePath, '--input', bad, '--output', join(root, 'o.safetensors'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/'sample' is \[2,3,4,4\], the model takes \[N, 3, 8, 8\]/);
    expect(r.stderr).not.toMatch(/starting Chromium/);
  });

  test('convert round trip: from-diffusers then to-diffusers --unet-only gives the fixture back byte for byte; an existing folder is not overwritten', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ddpm-convert-'));
    const ckpt = join(root, 'model.safetensors');
    expect((await ddpm('convert', '--from-diffusers', fixturePath, '--out', ckpt)).code).toBe(0);
    const back = join(root, 'back');
    const r = await ddpm('convert', '--to-diffusers', ckpt, '--out', back, '--unet-only');
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['config.json', WEIGHTS]) expect(readFileSync(join(back, f)).equals(readFileSync(join(fixturePath, f))), f).toBe(true);
    const pipe = join(root, 'pipe');
    expect((await ddpm('convert', '--to-diffusers', ckpt, '--out', pipe, '--pipeline', 'ddim')).code).toBe(0);
    expect(readdirSync(pipe).sort()).toEqual(['model_index.json', 'scheduler', 'unet']);
    expect(JSON.parse(readFileSync(join(pipe, 'model_index.json'), 'utf8'))._class_name).toBe('DDIMPipeline');
    const again = await ddpm('convert', '--to-diffusers', ckpt, '--out', pipe);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists and is not empty/);
  });

  test('unet-forward on the fixture folder matches PyTorch (I64 timesteps [2]; an F32 scalar timestep)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ddpm-forward-'));
    for (const [timestep, want] of [
      [{ dtype: 'I64', values: [10, 777] }, 'out'],
      [{ dtype: 'F32', values: [500] }, 'out_t500'],
    ] as const) {
      const input = inputFile(root, timestep);
      const out = join(root, `${want}.safetensors`);
      const r = await ddpm('unet-forward', '--model', fixturePath, '--input', input, '--output', out);
      expect(r.code, r.stderr).toBe(0);
      const file = readSafetensors(readFileSync(out));
      expect(file.metadata).toEqual({ format: 'pt' });
      const got = file.tensors.get('sample')!;
      expect(got.shape).toEqual([2, 3, 8, 8]);
      const ref = io.get(want)!.data as Float32Array;
      let num = 0;
      let den = 0;
      (got.data as Float32Array).forEach((v, i) => ((num += (v - ref[i]!) ** 2), (den += ref[i]! ** 2)));
      console.log(`unet-forward ${want}: relative error ${Math.sqrt(num / den).toExponential(2)}`);
      expect(Math.sqrt(num / den)).toBeLessThan(1e-4);
    }
  });
});
