// Two tests per check case: the float64 reference against finite differences (in Node), and
// the GPU forward and gradients against the reference (in the shared Chromium page). An op
// without gradient (a case without `vjp`) has only the second, for its forward.

import { describe, expect, test } from 'vitest';
import {
  GPU_TOLERANCE,
  REF_FD_TOLERANCE,
  caseSeed,
  checkReferenceGradient,
  type GpuCheckResult,
  type OpCheck,
} from '../../src/engine/checks/runner.ts';
import { inPage } from '../setup/page.ts';

/** Inputs are drawn fresh from this seed (override with DDPM_TEST_SEED to explore). */
export const RUN_SEED = Number(process.env.DDPM_TEST_SEED ?? 20261124);

export function defineOpTests(checks: readonly OpCheck[]): void {
  for (const check of checks) {
    describe(check.op, () => {
      for (const c of check.cases) {
        // SwiftShader has no shader-f16: the f16 cases run on lavapipe (tests/cli/lavapipe.test.ts).
        if (c.dtype === 'f16') continue;
        const seed = caseSeed(RUN_SEED, check.op, c.name);
        const differentiable = c.vjp !== undefined;
        if (differentiable) {
          test(`${c.name}: float64 reference gradient vs finite differences`, () => {
            const err = checkReferenceGradient(c, seed);
            expect(err, `seed ${seed}`).toBeLessThan(REF_FD_TOLERANCE);
          });
        }
        test(`${c.name}: GPU forward${differentiable ? ' and gradients' : ''} vs float64 reference`, async (ctx) => {
          const result = await inPage(
            ({ op, name, runSeed }): Promise<GpuCheckResult> =>
              (window as any).ddpmHarness.runGpuCheck(op, name, runSeed),
            { op: check.op, name: c.name, runSeed: RUN_SEED },
          );
          // Only where the test adapter lacks a feature the case's kernels need (SwiftShader has them).
          if (result.notRun) ctx.skip(result.notRun);
          const tol = c.tolerance ?? GPU_TOLERANCE;
          expect(result.forward, `forward, seed ${seed}`).toBeLessThan(tol);
          for (const input of c.inputs) {
            if (!differentiable || input.noGrad) continue;
            expect(result.grads[input.name], `gradient of ${input.name}, seed ${seed}`).toBeLessThan(tol);
          }
        });
      }
    });
  }
}
