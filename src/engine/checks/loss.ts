// Check cases for the losses (src/engine/ops/loss.ts).

import { mseLoss } from '../ops/loss.ts';
import { refMse, refMseVjp } from '../reference/loss.ts';
import type { CheckCase, OpCheck } from './runner.ts';

const cases: CheckCase[] = [[7, 33], [130], [2, 1, 7, 7]].map((shape) => ({
  name: `[${shape}]`,
  inputs: [
    { name: 'pred', shape },
    { name: 'target', shape },
  ],
  gpu: ([p, t]) => mseLoss(p!, t!),
  ref: ([p, t]) => refMse(p!, t!),
  vjp: ([p, t], gy) => refMseVjp(p!, t!, gy),
}));

export const lossChecks: OpCheck[] = [{ op: 'mseLoss', cases }];
