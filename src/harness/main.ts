// The page that tests, `ddpm check` and `ddpm bench` drive in headless Chromium. It owns the
// one GPUDevice and exposes the engine as `window.ddpm` and the drivers as `window.ddpmHarness`.

import type { CheckRequest, HarnessProtocol, SessionProtocol } from '../app/index.ts';
import { runBench } from '../bench/run.ts';
import { createPageSession } from './session.ts';
import * as ddpm from '../engine/index.ts';
import { ALL_CHECKS, caseSeed, checkGpu, findCheck, type GpuCheckResult } from '../engine/checks/index.ts';
import { runOpChecks } from '../app/index.ts';

/** The GPU check of one case of `op` (by case name), with its seed derived from `runSeed`. */
async function runGpuCheck(op: string, caseName: string, runSeed = 1): Promise<GpuCheckResult> {
  const c = findCheck(op).cases.find((x) => x.name === caseName);
  if (!c) throw new Error(`op '${op}' has no check case '${caseName}'`);
  return checkGpu(c, caseSeed(runSeed, op, caseName));
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
    runChecks: (request: CheckRequest = {}) => runOpChecks({ ...request, progress: (line) => console.info(line) }),
    /** Imports a source module into the page (tests reach model code this way). */
    importModule: (path: string) => import(/* @vite-ignore */ path),
    runBench,
    setTuning: (overrides: Record<string, unknown>) => ddpm.runtime().setTuning(overrides),
    /** Training, sampling and evaluation for the CLI (src/cli/commands). */
    session: await createPageSession(),
  } satisfies HarnessProtocol & Record<string, unknown>;
  window.ddpmHarnessReady = true;
} catch (e) {
  window.ddpmHarnessError = e instanceof Error ? e.message : String(e);
}
