import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The extended suite (vitest.extended.config.ts, `npm run test:extended`) runs on its own.
    exclude: ['tests/extended/**', '**/node_modules/**'],
    // One browser page holds the GPUDevice and the pipeline cache; test files take turns on it.
    fileParallelism: false,
    // Hang guards, not speed limits (tests/setup/hang-guard.ts): at least 5x the slowest time
    // measured on one pinned core with cold caches; longer tests set their own.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    globalSetup: ['tests/setup/browser-global.ts'],
    setupFiles: ['tests/setup/hang-guard-report.ts'],
    reporters: ['default', './tests/setup/summary-reporter.ts'],
  },
});
