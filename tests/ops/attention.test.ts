// attention: the check cases (reference vs finite differences, GPU vs reference), PyTorch 1.13's
// values (tests/fixtures/torch-reference/ops.safetensors) and the shape errors.

import { describe, expect, test } from 'vitest';
import { attentionChecks } from '../../src/engine/checks/attention.ts';
import { refAttention, refAttentionVjp } from '../../src/engine/reference/attention.ts';
import { refArray } from '../../src/engine/reference/ndarray.ts';
import { fixtureTensor as get, gpuForwardBackward, type Arr, worstExcess } from '../setup/fixtures.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(attentionChecks);



const TOL = 1e-5;
const SCALE = 1 / Math.sqrt(8);

describe('attention vs PyTorch 1.13 (q [2,2,6,8], k/v [2,2,7,8])', () => {
  const [q, k, v, g] = ['q', 'k', 'v', 'grad_out'].map((n) => get(`attention.${n}`)) as [Arr, Arr, Arr, Arr];

  test('float64 reference: forward and gradients', () => {
    const [rq, rk, rv, rg] = [q, k, v, g].map((a) => refArray(a.shape, a.data));
    expect(worstExcess(refAttention(rq!, rk!, rv!, SCALE).data, get('attention.out').data, TOL)).toBeLessThan(TOL);
    const grads = refAttentionVjp(rq!, rk!, rv!, rg!, SCALE);
    ['q', 'k', 'v'].forEach((n, i) => {
      expect(worstExcess(grads[i]!.data, get(`attention.grad.${n}`).data, TOL), `grad ${n}`).toBeLessThan(TOL);
    });
  });

  test('GPU: forward and gradients', async () => {
    const r = await gpuForwardBackward('attention', [q, k, v], g);
    expect(worstExcess(r.out, get('attention.out').data, TOL)).toBeLessThan(TOL);
    ['q', 'k', 'v'].forEach((n, i) => {
      expect(worstExcess(r.grads[i]!, get(`attention.grad.${n}`).data, TOL), `grad ${n}`).toBeLessThan(TOL);
    });
  });
});

test('attention: shape errors name the op, the argument and the shapes', async () => {
  const messages = await inPage(async () => {
    const d = (window as any).ddpm;
    const errorOf = (shapes: number[][]) =>
      d.scope(() => {
        const [q, k, v] = shapes.map((s: number[]) => d.zeros(s));
        try {
          d.attention(q, k, v);
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      });
    return [
      errorOf([[2, 1, 5, 8], [2, 2, 5, 8], [2, 2, 5, 8]]),
      errorOf([[1, 1, 5, 8], [1, 1, 5, 4], [1, 1, 5, 4]]),
      errorOf([[1, 1, 5, 8], [1, 1, 5, 8], [1, 1, 6, 8]]),
      errorOf([[1, 1, 5, 260], [1, 1, 5, 260], [1, 1, 5, 260]]),
    ];
  });
  expect(messages[0]).toMatch(/attention: k \[2,2,5,8\] and q \[2,1,5,8\] differ/);
  expect(messages[1]).toMatch(/attention: q \[1,1,5,8\] has head dim 8 but k \[1,1,5,4\] has 4/);
  expect(messages[2]).toMatch(/attention: v \[1,1,6,8\] must have the shape of k \[1,1,5,8\]/);
  expect(messages[3]).toMatch(/attention: head dim 260 .* exceeds the fused kernel's maximum of 256/);
});
