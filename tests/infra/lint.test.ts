// `npm run lint` is part of the test command: the layer order of DESIGN.md holds (lint/layers.js),
// and the rule really fails on an import that runs upward or past the engine's public entry.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { ESLint } from 'eslint';
import { expect, test } from 'vitest';
import { layerOf, violation } from '../../lint/layers.js';
import { runProcess } from '../setup/hang-guard.ts';

// Hang guard: at least 5x the slowest run measured on one pinned core (6 s).
test('npm run lint passes', async () => {
  const r = await runProcess('npm run lint', 'npm', ['run', '--silent', 'lint'], { limitMs: 300_000 });
  expect(r.stdout).toBe('');
  expect(r.code, r.stderr).toBe(0);
});

test('the layer rule rejects upward and deep imports and accepts the allowed ones', () => {
  expect(violation('src/engine/tape.ts', 'src/engine/ops/elementwise.ts')).toMatch(/'tape' may not import layer 'ops'/);
  expect(violation('src/engine/ops/reduce.ts', 'src/engine/backward.ts')).toMatch(/'ops' may not import layer 'autodiff'/);
  expect(violation('src/engine/reference/conv2d.ts', 'src/engine/ops/conv2d.ts')).toMatch(/'reference' may not import/);
  expect(violation('src/ui/train-panel.ts', 'src/engine/index.ts')).toMatch(/'ui' may not import/);
  expect(violation('src/ui/train-panel.ts', 'src/model/unet.ts')).toMatch(/'ui' may not import layer 'model'/);
  expect(violation('src/model/unet.ts', 'src/app/training-session.ts')).toMatch(/'model' may not import layer 'app'/);
  expect(violation('src/model/unet.ts', 'src/engine/ops/conv2d.ts')).toMatch(/only through src\/engine\/index.ts/);
  expect(violation('src/shaders/conv2d.ts', 'src/engine/shape.ts')).toMatch(/'shaders' may not import/);
  expect(violation('src/model/unet.ts', 'src/engine/index.ts')).toBeNull();
  expect(violation('src/engine/ops/conv2d.ts', 'src/engine/tape.ts')).toBeNull();
  expect(violation('src/engine/backward.ts', 'src/engine/ops/elementwise.ts')).toBeNull();
  expect(violation('src/ui/train-panel.ts', 'src/app/index.ts')).toBeNull();
});

test('every source module belongs to a layer', () => {
  const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(100);
  const orphans = files.map((f) => `src/${f.split(sep).join('/')}`).filter((f) => !layerOf(f));
  expect(orphans).toEqual([]);
});

test('eslint fails on a deliberately upward import written into the tree', async () => {
  // A file among the engine's ops that imports the model: the linter, configured as `npm run lint`
  // runs it, reports it with the layer names.
  const dir = mkdtempSync(join('src', 'engine', 'ops', 'lint-probe-'));
  try {
    const probe = join(dir, 'probe.ts');
    writeFileSync(probe, "import { UNet } from '../../../model/unet.ts';\nexport const probe = UNet;\n");
    const eslint = new ESLint();
    const [result] = await eslint.lintFiles([probe]);
    const messages = result!.messages.map((m) => m.message);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/layer 'ops' may not import layer 'model'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
