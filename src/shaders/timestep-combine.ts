// timestepCombine's kernel: per-sample schedule gathers (q_sample, targets, x0 from ε).

import { defineKernel } from './kernel.ts';

export const TIMESTEP_COMBINE_WORKGROUP = 256;

/**
 * out = A[t_n]·x + B[t_n]·y, or out = A[t_n]·x without `ys` and `tableB` (the gradient's scale).
 * Tables are [T] and `timesteps` holds one integer-valued timestep per sample.
 */
export const timestepCombineKernel = defineKernel({
  name: 'timestep-combine',
  uniforms: {
    count: 'u32',
    /** Elements of one sample (C·H·W): sample n = idx / perSample. */
    perSample: 'u32',
  },
  bindings: {
    xs: 'read',
    ys: { access: 'read', optional: true },
    tableA: 'read',
    tableB: { access: 'read', optional: true },
    timesteps: 'read',
    out: 'read_write',
  },
  workgroupSize: TIMESTEP_COMBINE_WORKGROUP,
  invocations: 'count',
  body: (_, k) => {
    if (k.has.ys !== k.has.tableB) throw new Error("timestep-combine: 'ys' and 'tableB' come together");
    return `${k.main}
  let t = u32(timesteps[idx / params.perSample]);
  out[idx] = tableA[t] * xs[idx]${k.has.ys ? ' + tableB[t] * ys[idx]' : ''};
}`;
  },
});
