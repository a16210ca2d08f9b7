// `ddpm check --cover` (src/engine/checks/cover.ts): a probe finds the kernels a case dispatches
// without building any, and the plan's cases together run every kernel variant of the full set
// (or every one beyond a software adapter's run) and every op.

import { expect, test } from 'vitest';
import { inPage } from '../setup/page.ts';

/** Ops whose cases select kernels many ways (tiles, split-K, register or tiled attention). */
const OPS = ['neg', 'matmul', 'conv2d', 'attention', 'groupNorm'];

test('a probe builds no pipeline and finds the kernels that running the case builds', async () => {
  const r = await inPage(async () => {
    const h = (window as any).ddpmHarness;
    const checks = await h.importModule('/src/engine/checks/index.ts');
    const dispatcher = (window as any).ddpm.runtime().dispatcher;
    // A case with a kernel choice of its own (the tiled matmul with split-K), each seen the first time here or not.
    const c = checks.findCheck('matmul').cases.find((x: { name: string }) => /tiled/.test(x.name) && /split-K/.test(x.name));
    const before = dispatcher.counters.pipelinesCreated;
    const probed = [...checks.caseKernels(c)] as string[];
    const afterProbe = dispatcher.counters.pipelinesCreated;
    const result = await checks.checkGpu(c, 5);
    const built = new Set(dispatcher.pipelineKeys());
    return { name: c.name, before, afterProbe, probed, missing: probed.filter((k) => !built.has(k)), result };
  });
  expect(r.afterProbe).toBe(r.before);
  expect(r.probed.length, r.name).toBeGreaterThanOrEqual(3); // forward, split-K reduction, both gradients
  expect(r.probed.some((k) => k.startsWith('matmul-tiled'))).toBe(true);
  expect(r.missing).toEqual([]);
  expect(r.result.forward).toBeLessThan(1e-4);
});

test('the plan runs every kernel variant of the full set and every op, in fewer cases', async () => {
  const r = await inPage(async (ops: string[]) => {
    const h = (window as any).ddpmHarness;
    const checks = await h.importModule('/src/engine/checks/index.ts');
    const chosen = checks.ALL_CHECKS.filter((c: { op: string }) => ops.includes(c.op));
    const runnable = chosen.flatMap((check: any) => check.cases.filter((c: any) => checks.caseMissingFeatures(c).length === 0).map((c: any) => ({ op: check.op, c })));
    const all = new Set<string>();
    for (const { c } of runnable) for (const k of checks.caseKernels(c)) all.add(k);
    const plans: Record<string, { cases: number; ops: string[]; uncovered: string[]; kernels: number; needed: number }> = {};
    for (const mode of ['all', 'beyond-software']) {
      const plan = checks.planCover(chosen, mode);
      const covered = new Set<string>();
      let cases = 0;
      for (const { op, c } of runnable) {
        if (!plan.cases.get(op)?.has(c.name)) continue;
        cases++;
        for (const k of checks.caseKernels(c)) covered.add(k);
      }
      plans[mode] = { cases, ops: [...plan.cases.keys()], uncovered: [...all].filter((k) => !covered.has(k)), kernels: plan.kernels, needed: plan.needed };
    }
    return { runnable: runnable.length, kernels: all.size, plans };
  }, OPS);
  console.log(`cover on this adapter, ${OPS.join(', ')}: ${r.runnable} cases, ${r.kernels} kernel variants; all: ${r.plans.all!.cases} cases; beyond-software: ${r.plans['beyond-software']!.cases}`);
  const all = r.plans.all!;
  expect(all.uncovered).toEqual([]);
  expect(all.ops.sort()).toEqual([...OPS].sort());
  expect(all.needed).toBe(r.kernels);
  expect(all.kernels).toBe(r.kernels);
  expect(all.cases).toBeLessThan(r.runnable);
  // On a software adapter nearly everything is already run by a software adapter's own choices;
  // every op still runs at least one case.
  const beyond = r.plans['beyond-software']!;
  expect(beyond.ops.sort()).toEqual([...OPS].sort());
  expect(beyond.cases).toBeLessThanOrEqual(all.cases);
});

test('the harness runs the covering cases of an op and says how many of all', async () => {
  const rows = await inPage(() => (window as any).ddpmHarness.runChecks({ ops: ['neg'], cover: 'all' }));
  expect(rows).toHaveLength(1);
  expect(rows[0].pass).toBe(true);
  expect(rows[0].case).toMatch(/^[1-9]\d* of 24 cases \(12 need shader-f16\)$/);
});
