// Ends every run with one machine-readable line: "N passed, N failed[, N skipped]". Before it,
// the tests that took more than a fifth of their time limit: a limit is a hang guard at least
// 5x above the measured time (tests/setup/hang-guard.ts), so any test listed there needs a
// larger one before a slower machine fails it.

import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** A test's limit must be at least this many times its measured duration. */
const GUARD_FACTOR = 5;

export default class SummaryReporter implements Reporter {
  private defaultTimeout = 0;

  onInit(vitest: { config: { testTimeout: number } }): void {
    this.defaultTimeout = vitest.config.testTimeout;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const nearLimit: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
        const ms = test.diagnostic()?.duration ?? 0;
        const limit = test.options.timeout ?? this.defaultTimeout;
        if (limit > 0 && ms * GUARD_FACTOR > limit) {
          nearLimit.push(`  ${module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}: ${(ms / 1000).toFixed(1)} s of ${(limit / 1000).toFixed(0)} s`);
        }
      }
      // A file that fails to load, or a failing beforeAll/afterAll, has no failed test to show for
      // it; count each such file or suite once so the line never reads all-green.
      if (module.errors().length > 0) failed++;
      for (const suite of module.children.allSuites()) if (suite.errors().length > 0) failed++;
    }
    failed += unhandledErrors.length;
    if (nearLimit.length > 0) {
      process.stdout.write(`tests within ${GUARD_FACTOR}x of their time limit (raise the limit):\n${nearLimit.join('\n')}\n`);
    }
    const parts = [`${passed} passed`, `${failed} failed`];
    if (skipped > 0) parts.push(`${skipped} skipped`);
    process.stdout.write(`${parts.join(', ')}\n`);
  }
}
