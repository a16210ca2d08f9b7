// The page that tests, `ddpm check` and `ddpm bench` drive in headless Chromium. It owns the
// one GPUDevice and exposes the engine as `window.ddpm` and the drivers as `window.ddpmHarness`.

import type { CheckRow, HarnessProtocol, SessionProtocol } from '../app/index.ts';
import { runBench } from '../bench/run.ts';
import { createPageSession } from './session.ts';
import * as ddpm from '../engine/index.ts';
import {
  ALL_CHECKS,
  caseSeed,
  checkGpu,
  checkReferenceGradient,
  findCheck,
  GPU_TOLERANCE,
  type GpuCheckResult,
  REF_FD_TOLERANCE,
} from '../engine/checks/index.ts';

/** The GPU check of one case of `op` (by case name), with its seed derived from `runSeed`. */
async function runGpuCheck(op: string, caseName: string, runSeed = 1): Promise<GpuCheckResult> {
  const c = findCheck(op).cases.find((x) => x.name === caseName);
  if (!c) throw new Error(`op '${op}' has no check case '${caseName}'`);
  return checkGpu(c, caseSeed(runSeed, op, caseName));
}

/** One row per op: the largest errors over its cases, and whether all are within tolerance. */
async function runChecks(options: { seed?: number; ops?: string[] } = {}): Promise<CheckRow[]> {
  const seed = options.seed ?? 1;
  const rows: CheckRow[] = [];
  for (const check of ALL_CHECKS) {
    if (options.ops && !options.ops.includes(check.op)) continue;
    let forward = 0;
    let refFd = 0;
    let pass = true;
    const grads: Record<string, number> = {};
    for (const c of check.cases) {
      const s = caseSeed(seed, check.op, c.name);
      const fd = checkReferenceGradient(c, s);
      const gpu = await checkGpu(c, s);
      const tol = c.tolerance ?? GPU_TOLERANCE;
      refFd = Math.max(refFd, fd);
      forward = Math.max(forward, gpu.forward);
      pass &&= fd < REF_FD_TOLERANCE && gpu.forward < tol;
      for (const [name, e] of Object.entries(gpu.grads)) {
        grads[name] = Math.max(grads[name] ?? 0, e);
        pass &&= e < tol;
      }
    }
    rows.push({ op: check.op, case: `${check.cases.length} cases`, forward, grads, refVsFiniteDiff: refFd, pass });
  }
  return rows;
}

async function ping(): Promise<{ hasAdapter: boolean; info: { vendor: string; architecture: string } }> {
  const report = ddpm.runtime().report;
  return { hasAdapter: true, info: { vendor: report.adapter.vendor, architecture: report.adapter.architecture } };
}

declare global {
  interface Window {
    ddpm: typeof ddpm;
    ddpmHarness: HarnessProtocol & { session: SessionProtocol } & Record<string, unknown>;
    ddpmHarnessReady: boolean;
    ddpmHarnessError: string | undefined;
  }
}

try {
  await ddpm.initEngine();
  window.ddpm = ddpm;
  window.ddpmHarness = {
    ping,
    report: () => ddpm.runtime().report,
    counters: () => ({ ...ddpm.runtime().dispatcher.counters, pool: ddpm.runtime().pool.getStats() }),
    checkCases: () => ALL_CHECKS.map((c) => ({ op: c.op, cases: c.cases.map((x) => x.name) })),
    runGpuCheck,
    runChecks,
    /** Imports a source module into the page (tests reach model code this way). */
    importModule: (path: string) => import(/* @vite-ignore */ path),
    runBench,
    /** Training, sampling and evaluation for the CLI (src/cli/commands). */
    session: await createPageSession(),
  } satisfies HarnessProtocol & Record<string, unknown>;
  window.ddpmHarnessReady = true;
} catch (e) {
  window.ddpmHarnessError = e instanceof Error ? e.message : String(e);
}
