// The CLI ↔ page protocol is declared once (src/app/protocol.ts): calls are checked by name,
// arguments and result type, there is one CHUNK, and bytes survive the base64 transport.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { CHUNK, concatBytes, fromBase64, toBase64, type StepRecord } from '../../src/app/index.ts';
import type { Host } from '../../src/cli/host.ts';
import { callHarness } from '../../src/cli/harness.ts';
import { callSession } from '../../src/cli/session-client.ts';

describe('the protocol', () => {
  test('calls are typed by method name: arguments are checked and results need no restating', () => {
    // Only type-checked (tsc runs over the tests): a session is never made here.
    const calls = (s: Host) => {
      expectTypeOf(callSession(s, 'train', 10)).resolves.toEqualTypeOf<StepRecord[]>();
      expectTypeOf(callSession(s, 'checkpoint')).resolves.toEqualTypeOf<{ bytes: number; chunks: number }>();
      expectTypeOf(callSession(s, 'start', { resume: true, dataset: { kind: 'files', files: [] } })).resolves.toHaveProperty('parameters');
      expectTypeOf(callHarness(s, 'runChecks')).resolves.items.toHaveProperty('pass');
      // @ts-expect-error: no such method
      void callSession(s, 'strat', {});
      // @ts-expect-error: train takes a number of steps
      void callSession(s, 'train', '10');
      // @ts-expect-error: sampleGrid needs n, sampler and seed
      void callSession(s, 'sampleGrid', { n: 4 });
      // @ts-expect-error: the harness has no such call
      void callHarness(s, 'runEverything');
    };
    expect(typeof calls).toBe('function');
  });

  test('CHUNK is declared once, in src/app/protocol.ts', () => {
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const declaring = files.filter((f) => /\bconst CHUNK\b/.test(readFileSync(join('src', f), 'utf8')));
    expect(declaring.map((f) => f.split('\\').join('/'))).toEqual(['app/protocol.ts']);
    expect(CHUNK).toBe(4 * 1024 * 1024);
  });

  test('bytes round-trip through base64 chunks', () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 256);
    const size = 0x9000; // chunks that do not line up with toBase64's own blocks
    const parts: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += size) parts.push(fromBase64(toBase64(bytes.subarray(at, at + size))));
    expect(concatBytes(parts)).toEqual(bytes);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(fromBase64('')).toEqual(new Uint8Array(0));
  });

  test("a page's base64 (no Buffer) matches Node's, for a subarray too", () => {
    const bytes = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 31) % 256);
    const part = bytes.subarray(5, 40_000);
    const expected = [Buffer.from(bytes).toString('base64'), Buffer.from(part).toString('base64')];
    const g = globalThis as { Buffer?: unknown };
    const saved = g.Buffer;
    g.Buffer = undefined;
    let got: string[];
    try {
      got = [toBase64(bytes), toBase64(part)];
    } finally {
      g.Buffer = saved;
    }
    expect(got).toEqual(expected);
  });
});
