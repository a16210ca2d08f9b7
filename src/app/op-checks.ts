// The op checks `ddpm check` runs and the page's check panel shows, one row per op: every case's
// float64 reference against central finite differences (on the CPU), and the GPU's forward and
// gradients against that reference (on this adapter), with the largest errors over the cases.

import {
  ALL_CHECKS,
  planCover,
  type CoverMode,
  caseSeed,
  checkGpu,
  checkReferenceGradient,
  GPU_TOLERANCE,
  caseMissingFeatures,
  REF_FD_TOLERANCE,
} from '../engine/checks/index.ts';
import type { CheckRow } from './protocol.ts';

export { COVER_MODES, type CoverMode } from '../engine/checks/index.ts';

/** The ops there are checks for, in the order they run. */
export const CHECKED_OPS: readonly string[] = ALL_CHECKS.map((c) => c.op);

export interface OpCheckOptions {
  seed?: number;
  /** Only these ops (default: all). */
  ops?: readonly string[];
  /**
   * Only a set of cases that runs every kernel variant of the full set (or, 'beyond-software',
   * every one a software adapter's run does not) and every op at least once.
   */
  cover?: CoverMode;
  /** Told "checking OP: N cases" as each op starts, so a run stopped midway shows where it was. */
  progress?: (line: string) => void;
  /** Called with each op's row as soon as its cases are done. */
  onRow?: (row: CheckRow) => void;
  /** Checked between ops; a set signal stops the run (the promise rejects). */
  signal?: AbortSignal;
}

/** Runs the checks op by op; resolves with every row. */
export async function runOpChecks(options: OpCheckOptions = {}): Promise<CheckRow[]> {
  const seed = options.seed ?? 1;
  const rows: CheckRow[] = [];
  const checks = ALL_CHECKS.filter((check) => !options.ops || options.ops.includes(check.op));
  const plan = options.cover ? planCover(checks, options.cover) : null;
  for (const check of checks) {
    if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('the checks were stopped', 'AbortError');
    const chosen = plan ? check.cases.filter((c) => plan.cases.get(check.op)?.has(c.name)) : check.cases;
    options.progress?.(`checking ${check.op}: ${chosen.length} cases`);
    let forward = 0;
    let refFd = 0;
    const grads: Record<string, number> = {};
    const failures: string[] = [];
    // Cases this adapter cannot run for want of a feature (whether or not the run chose them).
    const unrunnable = check.cases.map((c) => caseMissingFeatures(c)).filter((m) => m.length > 0);
    const notRun = unrunnable.length;
    const missing = new Set(unrunnable.flat());
    for (const c of chosen) {
      const s = caseSeed(seed, check.op, c.name);
      const fd = checkReferenceGradient(c, s);
      const gpu = await checkGpu(c, s);
      const tol = c.tolerance ?? GPU_TOLERANCE;
      refFd = Math.max(refFd, fd);
      forward = Math.max(forward, gpu.forward);
      const failed: string[] = [];
      if (!(fd < REF_FD_TOLERANCE)) failed.push(`reference vs finite differences ${fd.toExponential(1)}`);
      if (!(gpu.forward < tol)) failed.push(`forward ${gpu.forward.toExponential(1)}`);
      for (const [name, e] of Object.entries(gpu.grads)) {
        grads[name] = Math.max(grads[name] ?? 0, e);
        if (!(e < tol)) failed.push(`d${name} ${e.toExponential(1)}`);
      }
      if (failed.length > 0) failures.push(`${c.name}: ${failed.join(', ')}`);
    }
    const pass = failures.length === 0;
    // e.g. "24 cases (12 need shader-f16)": cases this adapter cannot run for want of a feature.
    const count = plan ? `${chosen.length} of ${check.cases.length} cases` : `${check.cases.length} cases`;
    const cases = `${count}${notRun > 0 ? ` (${notRun} need ${[...missing].join(', ')})` : ''}`;
    const row = { op: check.op, case: cases, forward, grads, refVsFiniteDiff: refFd, pass, failures };
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}
