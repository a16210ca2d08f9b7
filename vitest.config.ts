import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * The test files that drive the shared Chromium page (they import tests/setup/page.ts, directly or
 * through the op tests' definer, or inject its address): they take turns on it. The others run
 * the CLI and scripts in processes of their own, or plain Node code, beside them.
 */
const PAGE_USE = /setup\/page\.ts|define-op-tests|inject\(/;
const testFiles = (readdirSync('tests', { recursive: true }) as string[])
  .filter((f) => f.endsWith('.test.ts') && !f.startsWith('extended/'))
  .map((f) => `tests/${f}`);
const pageFiles = testFiles.filter((f) => PAGE_USE.test(readFileSync(f, 'utf8')));
const processFiles = testFiles.filter((f) => !pageFiles.includes(f));

export default defineConfig({
  test: {
    // Hang guards, not speed limits (tests/setup/hang-guard.ts): at least 5x the slowest time
    // measured on one pinned core with cold caches; longer tests set their own.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    setupFiles: ['tests/setup/hang-guard-report.ts'],
    reporters: ['default', './tests/setup/summary-reporter.ts'],
    // One file at a time in each project, the two projects side by side (a 2-core machine: the
    // page's SwiftShader on one, a CLI or lavapipe process on the other).
    projects: [
      {
        extends: true,
        test: {
          name: 'page',
          include: pageFiles,
          // One browser page holds the GPUDevice and the pipeline cache; these files take turns on it.
          fileParallelism: false,
          globalSetup: ['tests/setup/browser-global.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'processes',
          include: processFiles,
          // The extended suite (vitest.extended.config.ts, `npm run test:extended`) runs on its own.
          fileParallelism: false,
        },
      },
    ],
  },
});
