// `npm run test:extended`: the coverage the default suite narrows to keep it under 20 minutes on
// a slow machine (README, "Tests"): every op check case on lavapipe and on Dawn in Node, and the
// software kernel shapes in f16. No browser: these run the CLI and scripts in Node.

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/extended/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    setupFiles: ['tests/setup/hang-guard-report.ts'],
    reporters: ['default', './tests/setup/summary-reporter.ts'],
  },
});
