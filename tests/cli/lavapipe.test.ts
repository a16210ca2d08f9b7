// A second software adapter: Mesa's lavapipe (LLVM-compiled Vulkan on the CPU), unpacked by
// scripts/setup.sh into .cache/lavapipe. Unlike SwiftShader it has the 'shader-f16' and
// 'subgroups' features, so every op check runs there with a real GPU's kernel shapes
// (workgroup-memory tiles, subgroup reductions, split-K) under a second shader compiler.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  const rows = JSON.parse(readFileSync(json, 'utf8')) as { op: string; pass: boolean }[];
  expect(rows.length).toBeGreaterThanOrEqual(42);
  expect(rows.filter((x) => !x.pass).map((x) => x.op)).toEqual([]);
  expect(r.code, r.stderr).toBe(0);
});

test('an unknown shapesFor is refused with the choices', () => {
  const r = ddpmOnLavapipe({ DDPM_TUNING: '{"shapesFor":"tpu"}' }, 'check');
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/shapesFor must be one of software, gpu, got "tpu"/);
});
