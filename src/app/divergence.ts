// What the page and the CLI say when a run diverges: where, what went non-finite, and the likely
// cause with what to do about it.

import { DivergedError } from '../model/train/trainer.ts';
import { QUICK_RUN } from './presets.ts';

export { DivergedError };

export interface Divergence {
  /** The step at which the loss or the state was seen non-finite. */
  step: number;
  /** e.g. "the loss became NaN". */
  what: string;
  /** The likely cause and what to do. */
  cause: string;
}

/** Whether `e` says that training diverged (a non-finite loss or state). */
export function isDivergence(e: unknown): e is DivergedError {
  return e instanceof DivergedError;
}

/** The divergence `e` of a run at peak learning rate `lr` (which it had since `lrSince`, if it was changed). */
export function describeDivergence(e: DivergedError, lr: number, lrSince?: number): Divergence {
  const recipe = QUICK_RUN.optimizer.lr;
  const changed = lrSince !== undefined ? ` (set at step ${lrSince})` : '';
  const cause =
    lr > 5 * recipe
      ? `the learning rate ${lr}${changed} is ${Math.round(lr / recipe)}× the recipe's ${recipe}: steps that large overflow the weights. ` +
        `Go back to a saved state and lower it.`
      : `the updates grew until they overflowed float32 at a learning rate of ${lr}${changed}. Go back to a saved state and try a ` +
        `smaller learning rate or a longer warm-up.`;
  return { step: e.step, what: e.what, cause };
}
