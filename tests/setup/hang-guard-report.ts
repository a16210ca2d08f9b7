// A test that runs out of its own time says which guarded steps were still running, and for how
// long, and what it left running is stopped (tests/setup/hang-guard.ts): a setup file, run before
// each test file.

import { afterEach, beforeEach } from 'vitest';
import { stillRunning, stopLeftovers } from './hang-guard.ts';

beforeEach(({ onTestFailed }) => {
  onTestFailed(({ task }) => {
    const steps = stillRunning();
    for (const error of task.result?.errors ?? []) {
      if (/timed out in \d+ms/.test(error.message)) {
        error.message += steps.length > 0 ? `\nStill running: ${steps.join('; ')}` : '\nNo guarded step was running (the test body itself was).';
      }
    }
  });
});

// What a test that ran out of time left behind: its commands are stopped, its steps forgotten.
afterEach(stopLeftovers);
