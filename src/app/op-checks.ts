// The op checks `ddpm check` runs and the page's check panel shows, one row per op: every case's
// float64 reference against central finite differences (on the CPU), and the GPU's forward and
// gradients against that reference (on this adapter), with the largest errors over the cases.

import {
  ALL_CHECKS,
  caseSeed,
  checkGpu,
  checkReferenceGradient,
  GPU_TOLERANCE,
  REF_FD_TOLERANCE,
} from '../engine/checks/index.ts';
import type { CheckRow } from './protocol.ts';

/** The ops there are checks for, in the order they run. */
export const CHECKED_OPS: readonly string[] = ALL_CHECKS.map((c) => c.op);

export interface OpCheckOptions {
  seed?: number;
  /** Only these ops (default: all). */
  ops?: readonly string[];
  /** Called with each op's row as soon as its cases are done. */
  onRow?: (row: CheckRow) => void;
  /** Checked between ops; a set signal stops the run (the promise rejects). */
  signal?: AbortSignal;
}

/** Runs the checks op by op; resolves with every row. */
export async function runOpChecks(options: OpCheckOptions = {}): Promise<CheckRow[]> {
  const seed = options.seed ?? 1;
  const rows: CheckRow[] = [];
  for (const check of ALL_CHECKS) {
    if (options.ops && !options.ops.includes(check.op)) continue;
    if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('the checks were stopped', 'AbortError');
    let forward = 0;
    let refFd = 0;
    const grads: Record<string, number> = {};
    const failures: string[] = [];
    let notRun = 0;
    const missingFeatures = new Set<string>();
    for (const c of check.cases) {
      const s = caseSeed(seed, check.op, c.name);
      const fd = checkReferenceGradient(c, s);
      const gpu = await checkGpu(c, s);
      if (gpu.notRun) notRun++;
      for (const f of gpu.missingFeatures ?? []) missingFeatures.add(f);
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
    const cases = `${check.cases.length} cases${notRun > 0 ? ` (${notRun} need ${[...missingFeatures].join(', ')})` : ''}`;
    const row = { op: check.op, case: cases, forward, grads, refVsFiniteDiff: refFd, pass, failures };
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}
