// Every case of every op on Dawn in Node (the default suite runs enough cases to run every kernel
// variant and every op: tests/cli/node-host.test.ts). `npm run test:extended`.
//
// Hang guard: at least 5x the slowest time measured on one pinned core (58 s).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { CheckRowJson } from '../cli/lavapipe/lavapipe.ts';
import { runDdpm } from '../setup/hang-guard.ts';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-node-host-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('check --host node: every case of every op passes on Dawn in Node', { timeout: 900_000 }, async () => {
  const json = join(dir, 'checks.json');
  const r = await runDdpm(['--host', 'node', 'check', '--json', json], { limitMs: 600_000 });
  expect(r.stderr).toMatch(/engine ready: Node v\d+.*Dawn/);
  const rows = JSON.parse(readFileSync(json, 'utf8')) as CheckRowJson[];
  expect(rows.length).toBeGreaterThanOrEqual(42);
  expect(rows.filter((x) => !x.pass).map((x) => x.op)).toEqual([]);
  expect(r.code, r.stderr).toBe(0);
});
