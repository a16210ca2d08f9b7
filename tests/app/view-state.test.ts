// The demo's "nothing yet" states come from one place, fresh on every call.

import { expect, test } from 'vitest';
import { noDataset, noRun } from '../../src/app/view-state.ts';

test('noRun() is the one empty run: no trainer, no samples, the target kept', () => {
  const a = noRun(40);
  expect(a.training).toEqual({ phase: 'none', buildingPipelines: false, step: 0, targetSteps: 40, stepsPerSecond: 0, parameters: 0, summary: null });
  expect(a.sampling).toEqual({ running: false, fromStep: 0, totalSteps: 0, frames: [], result: null, seconds: 0, precision: null });
  const b = noRun();
  // Without one, the demo's default target (DEFAULT_TRAIN_SETTINGS: what the field shows first).
  expect(b.training.targetSteps).toBe(2000);
  expect(b.sampling.frames).not.toBe(a.sampling.frames);
  expect(noDataset('error', 'gone')).toEqual({ status: 'error', description: '', message: 'gone', preview: null });
});
