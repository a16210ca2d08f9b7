// Which check cases to run when running all of them costs too much (on lavapipe, LLVM compiles
// every pipeline first): a small set of cases that still runs every kernel variant, every op at
// least once. A case's kernel variants are found by probing its forward and backward on this
// device (the dispatcher records pipeline keys without building anything), so the choice follows
// the kernels themselves, never a hand-kept list.

import { backward } from '../backward.ts';
import { runtime } from '../runtime.ts';
import { scope, tensor, zeros } from '../tensor.ts';
import { sizeOf } from '../shape.ts';
import { kernelTuning, type KernelTuning } from '../tuning.ts';
import { caseMissingFeatures, type CheckCase, type OpCheck } from './runner.ts';

/**
 * 'all': every kernel variant the full set runs on this device, at least once.
 * 'beyond-software': only the variants a software adapter's run (SwiftShader: software kernel
 * shapes, no 'subgroups', no 'shader-f16', as the test suite's page runs them) does not run, e.g.
 * a GPU's kernel shapes, the subgroup reductions and the f16 kernels on lavapipe.
 */
export type CoverMode = 'all' | 'beyond-software';
export const COVER_MODES: readonly CoverMode[] = ['all', 'beyond-software'];

/** The optional features a software adapter (SwiftShader) offers the kernels: none. */
const SOFTWARE_FEATURES: readonly string[] = [];

/**
 * The pipeline keys the case's GPU run dispatches (forward, and backward where it has gradients)
 * with `tuning` (default: this device's), found without building a pipeline.
 */
export function caseKernels(c: CheckCase, tuning?: KernelTuning): Set<string> {
  const rt = runtime();
  const half = c.dtype === 'f16';
  return rt.dispatcher.probeKernels(() =>
    rt.withTuning({ ...(tuning ?? {}), ...(c.tuning ?? {}) }, () =>
      scope(() => {
        const inputs = c.inputs.map((spec) =>
          tensor(new Float32Array(sizeOf(spec.shape)), spec.shape, {
            requiresGrad: c.vjp !== undefined && !spec.noGrad,
            dtype: half ? 'f16' : 'f32',
          }),
        );
        const out = c.gpu(inputs);
        if (c.vjp) backward(out, zeros(out.shape));
      }),
    ),
  );
}

export interface CoverPlan {
  mode: CoverMode;
  /** Per op, the names of the cases to run, in the op's order. */
  cases: Map<string, Set<string>>;
  /** Kernel variants the chosen cases run, and how many of them the plan had to cover. */
  kernels: number;
  needed: number;
  /** Cases there were to choose from (those this device runs). */
  runnable: number;
}

/**
 * Chooses cases greedily: each step takes the case that covers the most still-uncovered kernel
 * variants (and its op, if none of its cases is chosen yet) per pipeline it would build anew, so
 * the plan runs few cases and builds few pipelines beyond those it must.
 */
export function planCover(checks: readonly OpCheck[], mode: CoverMode): CoverPlan {
  const rt = runtime();
  const candidates: { op: string; c: CheckCase; keys: Set<string> }[] = [];
  for (const check of checks) {
    for (const c of check.cases) if (caseMissingFeatures(c).length === 0) candidates.push({ op: check.op, c, keys: caseKernels(c) });
  }
  const alreadyRun = new Set<string>();
  if (mode === 'beyond-software') {
    // Limits and thread counts come from this device's report: they shape only the software
    // side's block matmuls and micro-batching, never a GPU-shaped kernel's key.
    const software: KernelTuning = { ...kernelTuning(rt.report, 'software'), subgroups: false };
    for (const check of checks) {
      for (const c of check.cases) {
        if (caseMissingFeatures(c, SOFTWARE_FEATURES).length === 0) for (const k of caseKernels(c, software)) alreadyRun.add(k);
      }
    }
  }
  const uncovered = new Set<string>();
  for (const { op, keys } of candidates) {
    uncovered.add(`op:${op}`);
    for (const k of keys) if (!alreadyRun.has(k)) uncovered.add(k);
  }
  const needed = uncovered.size - new Set(candidates.map((x) => x.op)).size;
  const built = new Set<string>();
  const chosen = new Set<number>();
  while (uncovered.size > 0) {
    let best = -1;
    let bestScore = 0;
    candidates.forEach(({ op, keys }, i) => {
      if (chosen.has(i)) return;
      let gain = uncovered.has(`op:${op}`) ? 1 : 0;
      let cost = 1; // running the case
      for (const k of keys) {
        if (uncovered.has(k)) gain++;
        if (!built.has(k)) cost++;
      }
      if (gain / cost > bestScore) {
        best = i;
        bestScore = gain / cost;
      }
    });
    if (best < 0) break; // unreachable: every uncovered element belongs to some candidate
    chosen.add(best);
    const { op, keys } = candidates[best]!;
    uncovered.delete(`op:${op}`);
    for (const k of keys) {
      uncovered.delete(k);
      built.add(k);
    }
  }
  const cases = new Map<string, Set<string>>();
  [...chosen].sort((a, b) => a - b).forEach((i) => {
    const { op, c } = candidates[i]!;
    if (!cases.has(op)) cases.set(op, new Set());
    cases.get(op)!.add(c.name);
  });
  return { mode, cases, kernels: built.size, needed, runnable: candidates.length };
}
