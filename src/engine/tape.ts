// The tape: ops record a node on each output (its inputs and backward rule) while gradients are
// enabled. Below the ops, above the tensors: it imports no op (backward() lives in backward.ts).

import { assertTensor, type Tensor, viewOf, type TapeNode } from './tensor.ts';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording anything on the tape. */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

/** Links `output` to its inputs when any of them needs a gradient. Returns `output`. */
export function record(output: Tensor, op: string, inputs: readonly Tensor[], backward: TapeNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    // cast is the one op whose gradient crosses dtypes; the others run f16 for sampling only.
    const half = op === 'cast' ? undefined : inputs.find((t) => t.dtype === 'f16' && t.requiresGrad);
    if (half) throw new Error(`${op}: ${half.toString()} is f16 and needs a gradient: f16 is for sampling, train in f32`);
    output.requiresGrad = true;
    output.node = { op, inputs, backward };
  }
  return output;
}

/** A tensor sharing `t`'s storage with no history: gradients stop here. */
export function detach(t: Tensor): Tensor {
  assertTensor('detach', 't', t);
  return viewOf(t, t.shape, 'detach');
}
