// A second software adapter: Mesa's lavapipe (LLVM-compiled Vulkan on the CPU), unpacked by
// scripts/setup.sh into .cache/lavapipe. Unlike SwiftShader it has the 'shader-f16' and
// 'subgroups' features, so a real GPU's kernel shapes run there under a second shader compiler:
// the op checks that cover every kernel variant SwiftShader's run does not (the GPU shapes, the
// subgroup reductions, every f16 kernel), the tiny diffusers U-Net in f16 against PyTorch, and
// sampling in f16 against sampling in f32. Every case, and the software shapes in f16 too, run in
// the extended suite (`npm run test:extended`, tests/extended/lavapipe-all.test.ts).
//
// Hang guards: at least 5x the slowest time measured on one pinned core with Mesa's shader
// cache empty (op checks 105 s, tiny U-Net 72 s, the three sampling runs 40 s).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runDdpm } from '../setup/hang-guard.ts';
import { checksOnLavapipe, ddpmOnLavapipe, expectHalfSamplingMatches, expectTinyUnetMatches, LAVAPIPE_ICD, tinyUnetOnLavapipe } from './lavapipe/lavapipe.ts';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-lavapipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('lavapipe is unpacked (scripts/setup.sh)', () => {
  expect(existsSync(LAVAPIPE_ICD), `${LAVAPIPE_ICD} is missing: run bash scripts/setup.sh`).toBe(true);
});

test("every op passes on lavapipe, each of a real GPU's kernel variants that SwiftShader does not run at least once", { timeout: 1_500_000 }, async () => {
  const rows = await checksOnLavapipe(dir, 'gpu', ['--cover', 'beyond-software'], 1_200_000);
  expect(rows.length).toBeGreaterThanOrEqual(43);
  expect(rows.filter((x) => !x.pass).map((x) => x.op)).toEqual([]);
  // Every op ran at least one case, and nothing was left out for want of a feature.
  expect(rows.filter((x) => /^0 of/.test(x.case)).map((x) => x.op)).toEqual([]);
  expect(rows.filter((x) => /need/.test(x.case)).map((x) => `${x.op}: ${x.case}`)).toEqual([]);
});

test("the tiny diffusers U-Net in f16 matches PyTorch within 3e-3 (f32: 1e-4), a real GPU's kernel shapes", { timeout: 1_000_000 }, async () => {
  expectTinyUnetMatches(await tinyUnetOnLavapipe('gpu', 900_000), 'gpu');
});

test("sampling in f16 draws the images sampling in f32 draws (DDIM, 10 steps), a real GPU's kernel shapes", { timeout: 1_000_000 }, async () => {
  await expectHalfSamplingMatches(dir, { f32: 'gpu', f16: ['gpu'] }, 300_000);
});

test('sampling in f16 on an adapter without shader-f16 (SwiftShader) is refused with the reason', async () => {
  const out = join(dir, 'refused.png');
  const r = await runDdpm(['--host', 'node', 'sample', '--model', 'tests/fixtures/torch-reference/tiny_unet', '--n', '4', '--steps', '2', '--precision', 'f16', '--out', out], { limitMs: 120_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/sampling in f16 needs the adapter feature 'shader-f16', which this adapter lacks: sample in f32/);
  expect(existsSync(out)).toBe(false);
});

test('an unknown shapesFor is refused with the choices', async () => {
  const r = await ddpmOnLavapipe(['check'], { env: { DDPM_TUNING: '{"shapesFor":"tpu"}' }, limitMs: 120_000 });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/shapesFor must be one of software, gpu, got "tpu"/);
});

test('check --cover refuses an unknown mode with the choices', async () => {
  const r = await ddpmOnLavapipe(['check', '--cover', 'most'], { limitMs: 120_000 });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--cover must be one of all, beyond-software, got 'most'/);
});
