// timestepCombine: out = A[t_n]·x + B[t_n]·y per sample n, the fused form of q_sample
// (√ᾱ·x0 + √(1−ᾱ)·ε), of the v target and of x0 from ε. Tables are [T]; t is [N] integers.
// Kernel: src/shaders/diffusion.ts. Reference: src/engine/reference/timestep-combine.ts.
// Checks: src/engine/checks/timestep-combine.ts.

import { DIFFUSION_WORKGROUP, timestepCombineKernel } from '../../shaders/diffusion.ts';
import { record } from '../tape.ts';
import { fmt, sameShape } from '../shape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launchLinear } from './launch.ts';

function scaleRaw(x: Tensor, table: Tensor, t: Tensor): Tensor {
  const out = emptyTensor(x.shape, 'timestep-scale');
  launchLinear(
    'timestep-scale',
    () => timestepCombineKernel('scale'),
    { count: x.size, perSample: x.size / x.shape[0]! },
    [x.buffer, x.buffer, table.buffer, table.buffer, t.buffer, out.buffer],
    x.size,
    DIFFUSION_WORKGROUP,
  );
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
  launchLinear(
    'timestep-combine',
    () => timestepCombineKernel('combine'),
    { count: x.size, perSample: x.size / Math.max(1, x.shape[0]!) },
    [x.buffer, y.buffer, tableA.buffer, tableB.buffer, t.buffer, out.buffer],
    x.size,
    DIFFUSION_WORKGROUP,
  );
  return record(out, 'timestepCombine', [x, y, tableA, tableB, t], (g) => [
    x.requiresGrad ? scaleRaw(g, tableA, t) : null,
    y.requiresGrad ? scaleRaw(g, tableB, t) : null,
    null,
    null,
    null,
  ]);
}
