// The whole project type-checks under strict TypeScript.

import { expect, test } from 'vitest';
import { runProcess } from '../setup/hang-guard.ts';

// Hang guard: at least 5x the slowest run measured on one pinned core (12 s).
test('tsc --noEmit reports no errors (strict)', async () => {
  const r = await runProcess('tsc --noEmit', process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { limitMs: 300_000 });
  expect(r.stdout).toBe('');
  expect(r.code, r.stderr).toBe(0);
});
