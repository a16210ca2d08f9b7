// The `ddpm` command line: the commands that need no GPU, and the refusals that must happen
// before anything starts (a corrupt checkpoint is refused and left as it was).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runDdpm } from '../setup/hang-guard.ts';

// Hang guard: at least 5x the slowest run measured on one pinned core (3 s).
const ddpmWith = (env: Record<string, string>, ...args: string[]) => runDdpm(args, { env, limitMs: 120_000 });
const ddpm = (...args: string[]) => ddpmWith({}, ...args);

describe('ddpm CLI', () => {
  test('schedule --json has the documented keys, computed in float64', async () => {
    const r = await ddpm('schedule', '--type', 'cosine', '--T', '50', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const key of ['betas', 'alphas_cumprod', 'posterior_variance', 'posterior_mean_coef1', 'posterior_mean_coef2']) {
      expect(s[key]).toHaveLength(50);
    }
    expect(s.alphas_cumprod[0]).toBeCloseTo(1 - s.betas[0], 15);
  });

  test('schedule prints a table; bad flags exit 2 with the usage', async () => {
    const table = await ddpm('schedule', '--type', 'linear', '--T', '1000');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/alpha_bar/);
    const bad = await ddpm('schedule', '--type', 'exponential');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--type must be one of linear, cosine, quadratic, sigmoid/);
  });

  test('flags that mean what a page field means are refused by the same rule, with its message', async () => {
    const T = await ddpm('schedule', '--T', '1');
    expect(T.code).toBe(2);
    expect(T.stderr).toContain('--T: T must be a whole number from 2 to 10000, not 1');
    const lr = await ddpm('train', '--steps', '10', '--lr', '1e9');
    expect(lr.code).toBe(2);
    expect(lr.stderr).toContain('--lr: the learning rate must be a number above 0 and at most 1, not 1e9');
    const batch = await ddpm('train', '--steps', '10', '--batch', '0');
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain('--batch: the batch size must be a whole number from 1 to 4096, not 0');
    const modelBatch = await ddpm('model', '--preset', 'fashion-16', '--batch', 'many');
    expect(modelBatch.code).toBe(2);
    expect(modelBatch.stderr).toContain("--batch: the batch size must be a whole number from 1 to 4096, not 'many'");
  });

  test('model --preset ddpm-cifar10 prints 35,746,307 parameters and the memory of a step', async () => {
    const r = await ddpm('model', '--preset', 'ddpm-cifar10', '--batch', '128');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/parameters\s+35,746,307 \(328 tensors\)/);
    expect(r.stdout).toMatch(/activations kept for backward/);
  });

  test('a corrupt checkpoint is refused before anything starts and is left untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddpm-cli-'));
    const path = join(dir, 'checkpoint.safetensors');
    const junk = Buffer.from('not a checkpoint at all, just some bytes');
    writeFileSync(path, junk);
    const train = await ddpm('train', '--steps', '10', '--resume', path, '--out', dir);
    expect(train.code).toBe(1);
    expect(train.stderr).toMatch(/checkpoint: safetensors: header length \d+ exceeds the file/);
    const sample = await ddpm('sample', '--ckpt', path, '--out', join(dir, 'x.png'));
    expect(sample.code).toBe(1);
    expect(readFileSync(path).equals(junk)).toBe(true);
    const missing = await ddpm('sample', '--ckpt', join(dir, 'nope.safetensors'));
    expect(missing.stderr).toMatch(/cannot read checkpoint '.*nope.safetensors': ENOENT/);
  });

  test('DDPM_TUNING that is not a JSON object, or names no tuning field, is refused with what it must be', async () => {
    const notJson = await ddpmWith({ DDPM_TUNING: '{conv: 1}' }, 'bench', '--only', 'add_4m');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/DDPM_TUNING must be a JSON object of kernel tuning fields/);
    expect(notJson.stderr).not.toMatch(/starting/);
    const array = await ddpmWith({ DDPM_TUNING: '[1]' }, 'bench', '--only', 'add_4m');
    expect(array.stderr).toMatch(/DDPM_TUNING must be a JSON object of kernel tuning fields, not \[1\]/);
    const unknown = await ddpmWith({ DDPM_TUNING: '{"convTiles":8}' }, 'bench', '--only', 'add_4m');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown kernel tuning field\(s\) convTiles: use convTiledMinChannels, /);
    const tooLarge = await ddpmWith({ DDPM_TUNING: '{"maxBindingBytes":1e15}' }, 'bench', '--only', 'add_4m');
    expect(tooLarge.code).toBe(1);
    expect(tooLarge.stderr).toMatch(/maxBindingBytes must be an integer in \[4, \d+\] \(this device's limit\), got 1000000000000000/);
  });
});
