// Time limits in the tests are hang guards, never speed requirements: each is set at least 5x
// above the slowest time measured for what it guards (one pinned core, cold shader caches), so a
// slow machine never fails a test. When one fires, its message says what was still running and
// for how long, and a test that runs out of its own time names the guarded steps still running
// (tests/setup/hang-guard-report.ts).

import { spawn } from 'node:child_process';
import type { JSHandle, Page } from 'puppeteer-core';

/** The guarded steps running now in this test file's worker, by start time. */
const running = new Set<{ what: string; since: number }>();

const seconds = (ms: number) => (ms / 1000).toFixed(0);

/** "what (for N s)" for each guarded step still running. */
export function stillRunning(): string[] {
  const now = Date.now();
  return [...running].map((r) => `${r.what} (for ${seconds(now - r.since)} s)`);
}

export class HangGuardError extends Error {
  override name = 'HangGuardError';
}

/** Runs `work` as a named step: a test that runs out of time names the steps still running. */
export async function tracked<T>(what: string, work: () => Promise<T>): Promise<T> {
  const entry = { what, since: Date.now() };
  running.add(entry);
  try {
    return await work();
  } finally {
    running.delete(entry);
  }
}

/**
 * Runs `work` as a named step, rejecting with what was still running and for how long if it takes
 * more than `limitMs`; `onHang` stops the work and may add to the message.
 */
export function withinLimit<T>(what: string, limitMs: number, work: () => Promise<T>, onHang?: () => string): Promise<T> {
  const since = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const detail = onHang?.() ?? '';
      reject(new HangGuardError(`${what}: still running after ${seconds(Date.now() - since)} s, stopped by its hang guard of ${seconds(limitMs)} s${detail}`));
    }, limitMs);
  });
  return tracked(what, async () => {
    try {
      return await Promise.race([work(), hang]);
    } finally {
      clearTimeout(timer);
    }
  });
}

export interface ProcessResult {
  /** The exit code; -1 when a signal ended it. */
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface ProcessOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** The hang guard: at least 5x the slowest measured run. */
  limitMs: number;
}

/** The last lines of a process's output, for a message. */
function tail(text: string, lines = 8): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Process groups of the commands still running, stopped if their test ends without them. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
});

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM to the group (the CLI then stops its browser: src/cli/main.ts), SIGKILL 5 s later. */
function stopGroup(pid: number): void {
  signalGroup(pid, 'SIGTERM');
  setTimeout(() => signalGroup(pid, 'SIGKILL'), 5_000).unref();
}

/** Stops every command a test left running (its own time ran out first); a setup file calls it after each test. */
export function stopLeftovers(): void {
  for (const pid of liveGroups) stopGroup(pid);
  liveGroups.clear();
  running.clear();
}

/**
 * Runs a command to its end without blocking the test's event loop, in a process group of its
 * own. On its hang guard the group is stopped and the error names the command, how long it ran
 * and its last output.
 */
export function runProcess(what: string, file: string, args: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  const started = Date.now();
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<ProcessResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (pid !== undefined) liveGroups.delete(pid);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
  });
  return withinLimit(what, options.limitMs, () => done, () => {
    if (pid !== undefined) stopGroup(pid);
    const output = tail(`${stdout}\n${stderr}`);
    return output ? `; its last output:\n${output}` : '; it wrote nothing';
  });
}

/** `node bin/ddpm.js …args` in the repository root. */
export function runDdpm(args: readonly string[], options: ProcessOptions & { what?: string }): Promise<ProcessResult> {
  const what = options.what ?? `ddpm ${args.join(' ')}`;
  return runProcess(what, process.execPath, ['bin/ddpm.js', ...args], options);
}

/**
 * Waits on a page and its navigations, when not given a limit: at least 5x the slowest measured
 * on one pinned core (the demo's few training steps, 31 s; a cold page load, 6 s).
 */
export const PAGE_LIMIT_MS = 300_000;

/**
 * `page.waitForFunction` as a named step: on its hang guard the error says what was awaited (the
 * function's text unless `what` names it) and for how long.
 */
export async function waitInPage(
  page: Page,
  // Runs in the page, where handles passed in `args` arrive as the elements they refer to.
  fn: (...args: any[]) => unknown,
  options: { limitMs?: number; polling?: number | 'raf' | 'mutation'; what?: string } = {},
  ...args: unknown[]
): Promise<JSHandle> {
  const limitMs = options.limitMs ?? PAGE_LIMIT_MS;
  const what = options.what ?? `waiting for ${fn.toString().replace(/\s+/g, ' ')}`;
  const started = Date.now();
  try {
    return await tracked(what, () =>
      page.waitForFunction(fn, { timeout: limitMs, polling: options.polling ?? 200 }, ...args),
    );
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') {
      throw new HangGuardError(`${what}: not reached after ${seconds(Date.now() - started)} s, stopped by its hang guard of ${seconds(limitMs)} s`, { cause: e });
    }
    throw e;
  }
}
