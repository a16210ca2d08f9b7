// The tests' hang guards (tests/setup/hang-guard.ts) say what was still running and for how long,
// and stop it: a command's whole process group, its last output in the message.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { HangGuardError, runProcess, stillRunning, tracked, withinLimit } from '../setup/hang-guard.ts';

/** Whether the process runs (a zombie, dead but not yet reaped by whoever adopted it, does not). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
};

test('a command past its guard is stopped with its process group, the message naming it, its time and its last output', async () => {
  // The shell starts a grandchild (as the CLI starts Chromium) and reports its pid.
  const run = runProcess('a sleeping shell', 'bash', ['-c', 'sleep 60 & echo "grandchild $!"; wait'], { limitMs: 1_000 });
  const error = await run.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HangGuardError);
  const message = (error as Error).message;
  expect(message).toMatch(/^a sleeping shell: still running after 1 s, stopped by its hang guard of 1 s; its last output:\ngrandchild \d+$/);
  const grandchild = Number(/grandchild (\d+)/.exec(message)![1]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(alive(grandchild)).toBe(false);
});

test('a command that ends in time gives its code and output', async () => {
  const r = await runProcess('a short shell', 'bash', ['-c', 'echo out; echo err >&2; exit 3'], { limitMs: 60_000 });
  expect([r.code, r.stdout, r.stderr]).toEqual([3, 'out\n', 'err\n']);
});

test('a guarded step is listed as still running while it runs, and not after', async () => {
  let during: string[] = [];
  await tracked('step one', async () => {
    during = stillRunning();
  });
  expect(during).toEqual([expect.stringMatching(/^step one \(for \d+ s\)$/)]);
  expect(stillRunning()).toEqual([]);
  await expect(withinLimit('a never-ending wait', 200, () => new Promise(() => {}))).rejects.toThrow(
    /^a never-ending wait: still running after 0 s, stopped by its hang guard of 0 s$/,
  );
});
