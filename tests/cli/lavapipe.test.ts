// A second software adapter: Mesa's lavapipe (LLVM-compiled Vulkan on the CPU), unpacked by
// scripts/setup.sh into .cache/lavapipe. Unlike SwiftShader it has the 'shader-f16' and
// 'subgroups' features, so every op check runs there with a real GPU's kernel shapes
// (workgroup-memory tiles, subgroup reductions, split-K) under a second shader compiler, the f16
// cases included, and sampling in f16 is compared with PyTorch and with sampling in f32.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, expect, test } from 'vitest';

/** Written by scripts/setup.sh. */
const LAVAPIPE_ICD = resolve('.cache/lavapipe/lvp_icd.json');

const dir = mkdtempSync(join(tmpdir(), 'ddpm-lavapipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ddpmOnLavapipe(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/ddpm.js', '--host', 'node', ...args], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, VK_ICD_FILENAMES: LAVAPIPE_ICD, DDPM_SWIFTSHADER: '0', ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('lavapipe is unpacked (scripts/setup.sh)', () => {
  expect(existsSync(LAVAPIPE_ICD), `${LAVAPIPE_ICD} is missing: run bash scripts/setup.sh`).toBe(true);
});

test('every op passes on lavapipe with a real GPU\'s kernel shapes', { timeout: 600_000 }, () => {
  const json = join(dir, 'checks.json');
  const r = ddpmOnLavapipe({ DDPM_TUNING: '{"shapesFor":"gpu"}' }, 'check', '--json', json);
  expect(r.stderr).toMatch(/engine ready: Node v\d+.*llvmpipe/);
  const rows = JSON.parse(readFileSync(json, 'utf8')) as { op: string; case: string; pass: boolean }[];
  expect(rows.length).toBeGreaterThanOrEqual(43);
  expect(rows.filter((x) => !x.pass).map((x) => x.op)).toEqual([]);
  // Every case ran: the f16 ones need shader-f16, the subgroup ones subgroups.
  expect(rows.filter((x) => /need/.test(x.case)).map((x) => `${x.op}: ${x.case}`)).toEqual([]);
  expect(r.code, r.stderr).toBe(0);
});

test.each(['software', 'gpu'])('the tiny diffusers U-Net in f16 matches PyTorch within 3e-3 (f32: 1e-4), %s kernel shapes', { timeout: 300_000 }, (shapesFor) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tests/cli/lavapipe/tiny-unet-f16.ts'], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, VK_ICD_FILENAMES: LAVAPIPE_ICD, DDPM_SWIFTSHADER: '0', SHAPES_FOR: shapesFor },
  });
  expect(r.status, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { adapter: string; matmulTiled: boolean; f32: number; f16: number; f16Dtype: string };
  console.log(`tiny U-Net vs PyTorch on lavapipe, ${shapesFor} shapes: f32 ${result.f32.toExponential(2)}, f16 ${result.f16.toExponential(2)}`);
  expect(result.adapter).toMatch(/llvmpipe/);
  expect(result.matmulTiled).toBe(shapesFor === 'gpu');
  expect(result.f32).toBeLessThan(1e-4);
  expect(result.f16).toBeLessThan(3e-3);
  // It did run in half precision: f16 storage rounds every activation by up to 2^-11.
  expect(result.f16).toBeGreaterThan(1e-5);
  expect(result.f16Dtype).toBe('f32');
});

test('sampling in f16 draws the images sampling in f32 draws (DDIM, 10 steps)', { timeout: 300_000 }, () => {
  const grid = (precision: string, seed: number, env: Record<string, string> = {}) => {
    const out = join(dir, `grid-${precision}-${seed}-${Object.keys(env).length}.png`);
    const r = ddpmOnLavapipe(env, 'sample', '--model', 'tests/fixtures/torch-reference/tiny_unet', '--n', '16', '--sampler', 'ddim', '--steps', '10', '--seed', String(seed), '--precision', precision, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`network in ${precision}`));
    return decode(readFileSync(out)).data;
  };
  const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
    return sum / a.length;
  };
  const f32 = grid('f32', 3);
  const f16 = grid('f16', 3);
  const f16GpuShapes = grid('f16', 3, { DDPM_TUNING: '{"shapesFor":"gpu"}' });
  const otherSeed = grid('f32', 4);
  const halfDiff = meanAbsDiff(f32, f16);
  const gpuShapesDiff = meanAbsDiff(f32, f16GpuShapes);
  const seedDiff = meanAbsDiff(f32, otherSeed);
  console.log(`grid pixels, mean |f32 − f16| ${halfDiff.toFixed(2)} levels (a GPU's kernels: ${gpuShapesDiff.toFixed(2)}); another seed ${seedDiff.toFixed(1)}`);
  expect(halfDiff).toBeLessThan(2);
  expect(gpuShapesDiff).toBeLessThan(2);
  expect(seedDiff).toBeGreaterThan(20);
});

test('sampling in f16 on an adapter without shader-f16 (SwiftShader) is refused with the reason', () => {
  const r = spawnSync(process.execPath, ['bin/ddpm.js', '--host', 'node', 'sample', '--model', 'tests/fixtures/torch-reference/tiny_unet', '--n', '4', '--steps', '2', '--precision', 'f16', '--out', join(dir, 'refused.png')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/sampling in f16 needs the adapter feature 'shader-f16', which this adapter lacks: sample in f32/);
  expect(existsSync(join(dir, 'refused.png'))).toBe(false);
});

test('an unknown shapesFor is refused with the choices', () => {
  const r = ddpmOnLavapipe({ DDPM_TUNING: '{"shapesFor":"tpu"}' }, 'check');
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/shapesFor must be one of software, gpu, got "tpu"/);
});
