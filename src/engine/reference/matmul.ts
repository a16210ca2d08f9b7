// Float64 reference for batched matmul with broadcasting and transposes.

import { broadcastShapes, broadcastStrides } from '../shape.ts';
import { refArray, refSumTo, unravel, type Ref } from './ndarray.ts';

export function refMatmul(a: Ref, b: Ref, ta = false, tb = false): Ref {
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const M = ta ? ac : ar;
  const K = ta ? ar : ac;
  const N = tb ? br : bc;
  const batch = broadcastShapes('refMatmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const sa = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * ar * ac);
  const sb = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * br * bc);
  const out = refArray([...batch, M, N]);
  const batches = batch.reduce((x, y) => x * y, 1);
  for (let bi = 0; bi < batches; bi++) {
    const c = unravel(bi, batch);
    const oa = c.reduce((acc, v, d) => acc + v * sa[d]!, 0);
    const ob = c.reduce((acc, v, d) => acc + v * sb[d]!, 0);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a.data[oa + (ta ? k * ac + m : m * ac + k)]!;
          const bv = b.data[ob + (tb ? n * bc + k : k * bc + n)]!;
          s += av * bv;
        }
        out.data[bi * M * N + m * N + n] = s;
      }
    }
  }
  return out;
}

/** [dA, dB] for C = op(A)·op(B), summed over broadcast batch axes. */
export function refMatmulVjp(a: Ref, b: Ref, gy: Ref, ta = false, tb = false): [Ref, Ref] {
  const ga = ta ? refMatmul(b, gy, tb, true) : refMatmul(gy, b, false, !tb);
  const gb = tb ? refMatmul(gy, a, true, ta) : refMatmul(a, gy, !ta, false);
  return [refSumTo(ga, a.shape), refSumTo(gb, b.shape)];
}
