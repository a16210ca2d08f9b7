// `--host node`: the engine in the CLI's own Node process through Dawn (the webgpu npm package),
// no browser: every kernel variant passes its op checks there (every case: the extended suite,
// tests/extended/node-host-all.test.ts), a short training run writes its files and a grid, the
// single-folder bundle for a GPU server (scripts/bundle-node.mjs) runs the bench with both peers
// away from node_modules, a GPU's kernel set trains like the software set, and a bad --host value
// is refused with the usage.
//
// Hang guards: at least 5x the slowest time measured on one pinned core (the checks 45 s, a
// training run 10 s, the bundle's bench 6 s).

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runDdpm, runProcess } from '../setup/hang-guard.ts';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-node-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ddpmWith = (env: Record<string, string>, ...args: string[]) => runDdpm(args, { env, limitMs: 300_000 });
const ddpm = (...args: string[]) => ddpmWith({}, ...args);

test('check --host node --cover all: every kernel variant and every op passes on Dawn in Node', { timeout: 900_000 }, async () => {
  const r = await runDdpm(['--host', 'node', 'check', '--cover', 'all', '--json', join(dir, 'checks.json')], { limitMs: 600_000 });
  expect(r.stderr).toMatch(/engine ready: Node v\d+.*Dawn/);
  expect(r.stderr).not.toMatch(/Chromium/);
  const rows = JSON.parse(readFileSync(join(dir, 'checks.json'), 'utf8')) as { op: string; case: string; pass: boolean }[];
  expect(rows.length).toBeGreaterThanOrEqual(42);
  expect(rows.filter((x) => !x.pass).map((x) => x.op)).toEqual([]);
  expect(rows.filter((x) => /^0 of/.test(x.case)).map((x) => x.op)).toEqual([]);
  expect(r.code).toBe(0);
});

test('bench --profile --host node: a training step and a U-Net forward, each with dispatches, encode time, GPU time by family and peak memory', async () => {
  const json = join(dir, 'profile.json');
  const r = await ddpm('--host=node', 'bench', '--profile', '--batch', '4', '--json', json);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/training step op by op, batch 4 of fashion-16: [\d.]+ ms wall \(median; the first run [\d.]+ ms\), \d+ dispatches, encode [\d.]+ ms best \/ [\d.]+ ms median/);
  expect(r.stdout).toMatch(/U-Net forward \(EMA weights\), batch 36 of fashion-16: .* peak live GPU memory [\d.]+ MiB/);
  const profile = JSON.parse(readFileSync(json, 'utf8'));
  expect(profile.host).toBe('node');
  for (const work of [profile.step, profile.stepReplayed, profile.forward, profile.forwardReplayed]) {
    expect(work.dispatches).toBeGreaterThan(100);
    expect(work.encodeMs.best).toBeGreaterThan(0);
    expect(work.encodeMs.best).toBeLessThanOrEqual(work.encodeMs.median);
    expect(work.wallMs).toBeGreaterThan(0);
    expect(work.firstWallMs).toBeGreaterThan(0);
    expect(work.families.reduce((n: number, f: { count: number }) => n + f.count, 0)).toBe(work.dispatches);
    expect(work.families.reduce((ms: number, f: { ms: number }) => ms + f.ms, 0)).toBeCloseTo(work.gpuMs, 3);
    // At least the five parameter-sized buffers (weights, gradients, EMA, Adam's two moments).
    expect(work.peakLiveBytes).toBeGreaterThan(5 * 4 * 173_000);
  }
  // The forward is a part of the step's work, without the backward and the optimiser; replayed,
  // less: the work on the frozen weights alone (the row kernel's filter packing) ran at the capture.
  expect(profile.forward.dispatches).toBeLessThan(profile.step.dispatches / 2);
  expect(profile.forwardReplayed.dispatches).toBeLessThan(profile.forward.dispatches);
  expect(r.stdout).toMatch(/encoding the forward: [\d.]+ ms op by op, [\d.]+ ms replayed/);
  // The replayed step: the same work less the constants filled once at the capture.
  expect(profile.stepReplayed.dispatches).toBeLessThanOrEqual(profile.step.dispatches);
  expect(profile.stepReplayed.dispatches).toBeGreaterThan(0.95 * profile.step.dispatches);
  expect(r.stdout).toMatch(/encoding the training step: [\d.]+ ms op by op, [\d.]+ ms replayed/);
});

test('bench --memory --host node: the step encoded and never run, op by op and replayed, the replayed one in less memory', async () => {
  const json = join(dir, 'memory.json');
  const r = await ddpm('--host=node', 'bench', '--memory', '--batch', '8', '--json', json);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/training step of fashion-16, batch 8: peak live GPU memory [\d.]+ MiB op by op, [\d.]+ MiB replayed \([\d.]+% less\)/);
  const m = JSON.parse(readFileSync(json, 'utf8'));
  expect(m.microBatches).toBe(1);
  expect(m.peakLiveBytes.replayed).toBeLessThan(m.peakLiveBytes.eager);
  expect(m.peakLiveBytes.replayed).toBeGreaterThan(m.arenaBytes + m.intermediates.planned);
  expect(m.intermediates.planned).toBeLessThan(m.intermediates.captured);
});

test('train --host node writes a checkpoint, the loss and a PNG grid', async () => {
  const out = join(dir, 'run');
  const r = await ddpm('train', '--host=node', '--steps', '4', '--batch', '4', '--limit', '64', '--out', out, '--quality-n', '0', '--samples', '4');
  expect(r.code, r.stderr).toBe(0);
  expect(readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
  const png = readFileSync(join(out, 'samples-4.png'));
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(statSync(join(out, 'checkpoint.safetensors')).size).toBeGreaterThan(173_209 * 4);
});

test('train replays its step by default; --eager trains op by op to the same checkpoint, byte for byte', async () => {
  const run = async (name: string, ...extra: string[]) => {
    const out = join(dir, name);
    const r = await ddpm('train', '--host=node', '--steps', '3', '--batch', '4', '--limit', '32', '--out', out, '--quality-n', '0', '--samples', '1', ...extra);
    expect(r.code, r.stderr).toBe(0);
    return readFileSync(join(out, 'checkpoint.safetensors'));
  };
  const replayed = await run('replayed');
  const eager = await run('eager', '--eager');
  expect(replayed.length).toBeGreaterThan(173_209 * 4);
  expect(Buffer.compare(replayed, eager)).toBe(0);
});

test('sample and eval replay the network forward by default; --eager gives the same grid and the same bound', async () => {
  const ckpt = join(dir, 'run', 'checkpoint.safetensors');
  const grid = (name: string) => join(dir, name);
  for (const [out, extra] of [['replayed.png', []], ['eager.png', ['--eager']]] as const) {
    const r = await ddpm('--host=node', 'sample', '--ckpt', ckpt, '--n', '4', '--steps', '5', '--out', grid(out), ...extra);
    expect(r.code, r.stderr).toBe(0);
  }
  expect(readFileSync(grid('replayed.png')).equals(readFileSync(grid('eager.png')))).toBe(true);
  const bound = async (...extra: string[]) => {
    const json = join(dir, `bound${extra.join('')}.json`);
    const r = await ddpm('--host=node', 'eval', '--ckpt', ckpt, '--n', '4', '--terms', '4', '--batch', '4', '--json', json, ...extra);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(readFileSync(json, 'utf8')).bpd as number;
  };
  expect(await bound()).toBe(await bound('--eager'));
});

test('with a storage-binding limit below the batch (DDPM_TUNING), train runs micro-batches and says so', async () => {
  const out = join(dir, 'micro');
  // fashion-16: 24 KiB a sample at its largest tensor, no weight over 72 KiB; 100 kB holds 4 samples.
  const r = await ddpmWith({ DDPM_TUNING: '{"maxBindingBytes":100000}' }, 'train', '--host=node', '--steps', '2', '--batch', '8', '--limit', '64', '--out', out, '--quality-n', '0', '--samples', '4');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/batch 8 \(as 2 micro-batches: the whole batch's largest tensor exceeds one storage binding\)/);
  expect(readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
});

test("a real GPU's kernel set trains the fashion U-Net step for step like the software set", async () => {
  // The same adapter, data and seeds; DDPM_TUNING swaps every kernel choice for a GPU's (tiled
  // conv and matmul, split-K weight gradients, tiled attention), so only summation order differs.
  const lossesWith = async (shapesFor: string): Promise<number[]> => {
    const out = join(dir, `shapes-${shapesFor}`);
    const r = await ddpmWith({ DDPM_TUNING: JSON.stringify({ shapesFor }) }, 'train', '--host=node', '--steps', '4', '--batch', '8', '--limit', '64', '--out', out, '--quality-n', '0', '--samples', '4');
    expect(r.code, r.stderr).toBe(0);
    return readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((line) => Number(line.split(',')[1]));
  };
  const software = await lossesWith('software');
  const gpu = await lossesWith('gpu');
  expect(gpu).toHaveLength(4);
  const worst = Math.max(...gpu.map((l, i) => Math.abs(l - software[i]!) / software[i]!));
  console.log(`training losses, GPU vs software kernel shapes: worst relative difference ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-5);
  // Different kernels ran: float32 sums in another order do not agree to the last bit.
  expect(gpu).not.toEqual(software);
});

test('the Node bundle runs the bench with tfjs and jax-js from a folder with no node_modules', async () => {
  const built = await runProcess('scripts/bundle-node.mjs', process.execPath, ['scripts/bundle-node.mjs'], { limitMs: 120_000 });
  expect(built.code, built.stderr).toBe(0);
  // Only the bundle travels: two folders down, as it sits in the repository.
  const bare = join(dir, 'bare');
  cpSync('dist/node', join(bare, 'dist', 'node'), { recursive: true });
  const json = join(dir, 'bundle-bench.json');
  const r = await runProcess('the bundle\'s bench with both peers', process.execPath, [join(bare, 'dist', 'node', 'ddpm.mjs'), 'bench', '--peers', 'tfjs,jax', '--only', 'matmul_256', '--json', json], {
    limitMs: 240_000,
    cwd: bare,
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/engine ready: Node v\d+.*Dawn/);
  const result = JSON.parse(readFileSync(json, 'utf8')) as { rows: { name: string; ms: number; peers: Record<string, { ms?: number }> }[] };
  const row = result.rows.find((x) => x.name === 'matmul_256')!;
  expect(row.ms).toBeGreaterThan(0);
  expect(row.peers.tfjs?.ms).toBeGreaterThan(0);
  expect(row.peers.jax?.ms).toBeGreaterThan(0);
});

test('a bad --host is refused with the usage', async () => {
  const r = await ddpm('--host', 'gpu', 'check');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--host must be browser or node, got 'gpu'/);
});
