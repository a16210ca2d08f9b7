import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // One browser page holds the GPUDevice and the pipeline cache; test files take turns on it.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    globalSetup: ['tests/setup/browser-global.ts'],
    reporters: ['default', './tests/setup/summary-reporter.ts'],
  },
});
