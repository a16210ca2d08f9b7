// The `ddpm` command line: the commands that need no GPU, and the refusals that must happen
// before anything starts (a corrupt checkpoint is refused and left as it was).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

function ddpmWith(env: Record<string, string>, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/ddpm.js', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const ddpm = (...args: string[]) => ddpmWith({}, ...args);

describe('ddpm CLI', () => {
  test('schedule --json has the documented keys, computed in float64', () => {
    const r = ddpm('schedule', '--type', 'cosine', '--T', '50', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const key of ['betas', 'alphas_cumprod', 'posterior_variance', 'posterior_mean_coef1', 'posterior_mean_coef2']) {
      expect(s[key]).toHaveLength(50);
    }
    expect(s.alphas_cumprod[0]).toBeCloseTo(1 - s.betas[0], 15);
  });

  test('schedule prints a table; bad flags exit 2 with the usage', () => {
    const table = ddpm('schedule', '--type', 'linear', '--T', '1000');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/alpha_bar/);
    const bad = ddpm('schedule', '--type', 'exponential');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--type must be one of linear, cosine, quadratic, sigmoid/);
  });

  test('model --preset ddpm-cifar10 prints 35,746,307 parameters and the memory of a step', () => {
    const r = ddpm('model', '--preset', 'ddpm-cifar10', '--batch', '128');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/parameters\s+35,746,307 \(328 tensors\)/);
    expect(r.stdout).toMatch(/activations kept for backward/);
  });

  test('a corrupt checkpoint is refused before anything starts and is left untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddpm-cli-'));
    const path = join(dir, 'checkpoint.safetensors');
    const junk = Buffer.from('not a checkpoint at all, just some bytes');
    writeFileSync(path, junk);
    const train = ddpm('train', '--steps', '10', '--resume', path, '--out', dir);
    expect(train.code).toBe(1);
    expect(train.stderr).toMatch(/checkpoint: safetensors: header length \d+ exceeds the file/);
    const sample = ddpm('sample', '--ckpt', path, '--out', join(dir, 'x.png'));
    expect(sample.code).toBe(1);
    expect(readFileSync(path).equals(junk)).toBe(true);
    const missing = ddpm('sample', '--ckpt', join(dir, 'nope.safetensors'));
    expect(missing.stderr).toMatch(/cannot read checkpoint '.*nope.safetensors': ENOENT/);
  });

  test('DDPM_TUNING that is not a JSON object, or names no tuning field, is refused with what it must be', () => {
    const notJson = ddpmWith({ DDPM_TUNING: '{conv: 1}' }, 'bench', '--only', 'add_4m');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/DDPM_TUNING must be a JSON object of kernel tuning fields/);
    expect(notJson.stderr).not.toMatch(/starting/);
    const array = ddpmWith({ DDPM_TUNING: '[1]' }, 'bench', '--only', 'add_4m');
    expect(array.stderr).toMatch(/DDPM_TUNING must be a JSON object of kernel tuning fields, not \[1\]/);
    const unknown = ddpmWith({ DDPM_TUNING: '{"convTiles":8}' }, 'bench', '--only', 'add_4m');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown kernel tuning field\(s\) convTiles: use convTiledMinChannels, /);
    const tooLarge = ddpmWith({ DDPM_TUNING: '{"maxBindingBytes":1e15}' }, 'bench', '--only', 'add_4m');
    expect(tooLarge.code).toBe(1);
    expect(tooLarge.stderr).toMatch(/maxBindingBytes must be an integer in \[4, \d+\] \(this device's limit\), got 1000000000000000/);
  });
});
