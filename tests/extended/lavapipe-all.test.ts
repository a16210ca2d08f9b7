// The lavapipe checks the default suite narrows (tests/cli/lavapipe.test.ts): every case of every
// op with a real GPU's kernel shapes, and the software kernel shapes in f16 (which a software
// adapter runs only when asked: `--precision f16`). `npm run test:extended`.
//
// Hang guards: at least 5x the slowest time measured on one pinned core with Mesa's shader cache
// empty (all op checks 374 s, tiny U-Net 124 s, the three sampling runs 40 s once it is warm).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { checksOnLavapipe, expectHalfSamplingMatches, expectTinyUnetMatches, tinyUnetOnLavapipe } from '../cli/lavapipe/lavapipe.ts';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-lavapipe-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("every case of every op passes on lavapipe with a real GPU's kernel shapes", { timeout: 3_600_000 }, async () => {
  const rows = await checksOnLavapipe(dir, 'gpu', [], 3_000_000);
  expect(rows.length).toBeGreaterThanOrEqual(43);
  expect(rows.filter((x) => !x.pass).map((x) => x.op)).toEqual([]);
  // Every case ran: the f16 ones need shader-f16, the subgroup ones subgroups.
  expect(rows.filter((x) => /need/.test(x.case)).map((x) => `${x.op}: ${x.case}`)).toEqual([]);
});

test('the tiny diffusers U-Net in f16 matches PyTorch within 3e-3 (f32: 1e-4), software kernel shapes', { timeout: 1_500_000 }, async () => {
  expectTinyUnetMatches(await tinyUnetOnLavapipe('software', 1_200_000), 'software');
});

test("sampling in f16 draws the images sampling in f32 draws (DDIM, 10 steps), software kernel shapes against both sides' f16", { timeout: 2_400_000 }, async () => {
  await expectHalfSamplingMatches(dir, { f32: 'software', f16: ['software', 'gpu'] }, 600_000);
});
