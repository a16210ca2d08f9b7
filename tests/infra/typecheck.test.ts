// The whole project type-checks under strict TypeScript.

import { execFileSync } from 'node:child_process';
import { expect, test } from 'vitest';

test('tsc --noEmit reports no errors (strict)', () => {
  let output = '';
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    output = String((e as { stdout?: string }).stdout ?? e);
  }
  expect(output).toBe('');
}, 300_000);
