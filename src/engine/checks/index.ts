// Every op's checks (gradients, or the forward alone for ops without one), in the order
// `ddpm check` reports them.

import { attentionChecks } from './attention.ts';
import { castChecks } from './cast.ts';
import { conv2dChecks } from './conv2d.ts';
import { dropoutChecks } from './dropout.ts';
import { elementwiseChecks } from './elementwise.ts';
import { groupNormChecks } from './group-norm.ts';
import { layoutChecks } from './layout.ts';
import { linearChecks } from './linear.ts';
import { lossChecks } from './loss.ts';
import { matmulChecks } from './matmul.ts';
import { optimChecks } from './optim.ts';
import { reduceChecks } from './reduce.ts';
import type { OpCheck } from './runner.ts';
import { samplerStepChecks } from './sampler-step.ts';
import { softmaxChecks } from './softmax.ts';
import { timestepCombineChecks } from './timestep-combine.ts';
import { timestepEmbeddingChecks } from './timestep-embedding.ts';
import { upsampleChecks } from './upsample.ts';
import { vlbChecks } from './vlb.ts';

export const ALL_CHECKS: OpCheck[] = [
  ...elementwiseChecks,
  ...reduceChecks,
  ...layoutChecks,
  ...castChecks,
  ...matmulChecks,
  ...softmaxChecks,
  ...lossChecks,
  ...linearChecks,
  ...conv2dChecks,
  ...groupNormChecks,
  ...upsampleChecks,
  ...attentionChecks,
  ...timestepEmbeddingChecks,
  ...dropoutChecks,
  ...timestepCombineChecks,
  ...vlbChecks,
  ...optimChecks,
  ...samplerStepChecks,
];

export function findCheck(op: string): OpCheck {
  const c = ALL_CHECKS.find((x) => x.op === op);
  if (!c) throw new Error(`no gradient check named '${op}'`);
  return c;
}

export * from './runner.ts';
export { COVER_MODES, caseKernels, planCover, type CoverMode, type CoverPlan } from './cover.ts';
