// `--host node`: the engine in the CLI's own Node process through Dawn (the webgpu npm package),
// no browser: every op check passes there, a short training run writes its files and a grid, the
// single-folder bundle for a GPU server (scripts/bundle-node.mjs) runs the bench with both peers
// away from node_modules, a GPU's kernel set trains like the software set, and a bad --host value
// is refused with the usage.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-node-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ddpmWith(env: Record<string, string>, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/ddpm.js', ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const ddpm = (...args: string[]) => ddpmWith({}, ...args);

test('check --host node: all ops pass on Dawn in Node', { timeout: 300_000 }, () => {
  const r = ddpm('--host', 'node', 'check', '--json', join(dir, 'checks.json'));
  expect(r.stderr).toMatch(/engine ready: Node v\d+.*Dawn/);
  expect(r.stderr).not.toMatch(/Chromium/);
  const rows = JSON.parse(readFileSync(join(dir, 'checks.json'), 'utf8')) as { op: string; pass: boolean }[];
  expect(rows.length).toBeGreaterThanOrEqual(42);
  expect(rows.filter((x) => !x.pass).map((x) => x.op)).toEqual([]);
  expect(r.code).toBe(0);
});

test('train --host node writes a checkpoint, the loss and a PNG grid', { timeout: 300_000 }, () => {
  const out = join(dir, 'run');
  const r = ddpm('train', '--host=node', '--steps', '4', '--batch', '4', '--limit', '64', '--out', out, '--quality-n', '0', '--samples', '4');
  expect(r.code, r.stderr).toBe(0);
  expect(readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
  const png = readFileSync(join(out, 'samples-4.png'));
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(statSync(join(out, 'checkpoint.safetensors')).size).toBeGreaterThan(173_209 * 4);
});

test('with a storage-binding limit below the batch (DDPM_TUNING), train runs micro-batches and says so', { timeout: 300_000 }, () => {
  const out = join(dir, 'micro');
  // fashion-16: 24 KiB a sample at its largest tensor, no weight over 72 KiB; 100 kB holds 4 samples.
  const r = ddpmWith({ DDPM_TUNING: '{"maxBindingBytes":100000}' }, 'train', '--host=node', '--steps', '2', '--batch', '8', '--limit', '64', '--out', out, '--quality-n', '0', '--samples', '4');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/batch 8 \(as 2 micro-batches: the whole batch's largest tensor exceeds one storage binding\)/);
  expect(readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
});

test("a real GPU's kernel set trains the fashion U-Net step for step like the software set", { timeout: 300_000 }, () => {
  // The same adapter, data and seeds; DDPM_TUNING swaps every kernel choice for a GPU's (tiled
  // conv and matmul, split-K weight gradients, tiled attention), so only summation order differs.
  const lossesWith = (shapesFor: string): number[] => {
    const out = join(dir, `shapes-${shapesFor}`);
    const r = ddpmWith({ DDPM_TUNING: JSON.stringify({ shapesFor }) }, 'train', '--host=node', '--steps', '4', '--batch', '8', '--limit', '64', '--out', out, '--quality-n', '0', '--samples', '4');
    expect(r.code, r.stderr).toBe(0);
    return readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((line) => Number(line.split(',')[1]));
  };
  const software = lossesWith('software');
  const gpu = lossesWith('gpu');
  expect(gpu).toHaveLength(4);
  const worst = Math.max(...gpu.map((l, i) => Math.abs(l - software[i]!) / software[i]!));
  console.log(`training losses, GPU vs software kernel shapes: worst relative difference ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-5);
  // Different kernels ran: float32 sums in another order do not agree to the last bit.
  expect(gpu).not.toEqual(software);
});

test('the Node bundle runs the bench with tfjs and jax-js from a folder with no node_modules', { timeout: 300_000 }, () => {
  const built = spawnSync(process.execPath, ['scripts/bundle-node.mjs'], { encoding: 'utf8', timeout: 120_000 });
  expect(built.status, built.stderr).toBe(0);
  // Only the bundle travels: two folders down, as it sits in the repository.
  const bare = join(dir, 'bare');
  cpSync('dist/node', join(bare, 'dist', 'node'), { recursive: true });
  const json = join(dir, 'bundle-bench.json');
  const r = spawnSync(process.execPath, [join(bare, 'dist', 'node', 'ddpm.mjs'), 'bench', '--peers', 'tfjs,jax', '--only', 'matmul_256', '--json', json], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd: bare,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/engine ready: Node v\d+.*Dawn/);
  const result = JSON.parse(readFileSync(json, 'utf8')) as { rows: { name: string; ms: number; peers: Record<string, { ms?: number }> }[] };
  const row = result.rows.find((x) => x.name === 'matmul_256')!;
  expect(row.ms).toBeGreaterThan(0);
  expect(row.peers.tfjs?.ms).toBeGreaterThan(0);
  expect(row.peers.jax?.ms).toBeGreaterThan(0);
});

test('a bad --host is refused with the usage', () => {
  const r = ddpm('--host', 'gpu', 'check');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--host must be browser or node, got 'gpu'/);
});
