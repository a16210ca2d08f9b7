// timestepCombine: out = A[t_n]·x + B[t_n]·y per sample n, the fused form of q_sample
// (√ᾱ·x0 + √(1−ᾱ)·ε), of the v target and of x0 from ε. Tables are [T]; t is [N] integers.
// Kernel: src/shaders/timestep-combine.ts. Reference: src/engine/reference/timestep-combine.ts.
// Checks: src/engine/checks/timestep-combine.ts.

import { timestepCombineKernel } from '../../shaders/timestep-combine.ts';
import { record } from '../tape.ts';
import { fmt, sameShape } from '../shape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';

/** table[t_n]·x: the gradient of either input (the kernel without its second term). */
function scaleRaw(x: Tensor, table: Tensor, t: Tensor): Tensor {
  const out = emptyTensor(x.shape, 'timestep-scale');
  const uniforms = { count: x.size, perSample: x.size / x.shape[0]! };
  launch(timestepCombineKernel, {}, { xs: x, tableA: table, timesteps: t, out }, uniforms);
  return out;
}

/** A[t_n]·x + B[t_n]·y for x, y [N, ...], tables A, B [T] and timesteps t [N] (integer-valued). */
export function timestepCombine(x: Tensor, y: Tensor, tableA: Tensor, tableB: Tensor, t: Tensor): Tensor {
  for (const [name, v] of [['x', x], ['y', y], ['tableA', tableA], ['tableB', tableB], ['t', t]] as const) {
    assertTensor('timestepCombine', name, v);
  }
  if (!sameShape(x.shape, y.shape)) throw new Error(`timestepCombine: x ${fmt(x.shape)} and y ${fmt(y.shape)} differ`);
  if (x.rank < 1 || t.rank !== 1 || t.shape[0] !== x.shape[0]) {
    throw new Error(`timestepCombine: t ${fmt(t.shape)} must hold one timestep per sample of x ${fmt(x.shape)}`);
  }
  if (tableA.rank !== 1 || !sameShape(tableA.shape, tableB.shape)) {
    throw new Error(`timestepCombine: tables ${fmt(tableA.shape)} and ${fmt(tableB.shape)} must both be [T]`);
  }
  const out = emptyTensor(x.shape, 'timestep-combine');
  launch(
    timestepCombineKernel,
    {},
    { xs: x, ys: y, tableA, tableB, timesteps: t, out },
    { count: x.size, perSample: x.size / Math.max(1, x.shape[0]!) },
  );
  return record(out, 'timestepCombine', [x, y, tableA, tableB, t], (g) => [
    x.requiresGrad ? scaleRaw(g, tableA, t) : null,
    y.requiresGrad ? scaleRaw(g, tableB, t) : null,
    null,
    null,
    null,
  ]);
}
