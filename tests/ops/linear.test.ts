// linear: the check cases, PyTorch 1.13's values (tests/fixtures/torch-reference/ops.safetensors)
// and the shape errors.

import { describe, expect, test } from 'vitest';
import { linearChecks } from '../../src/engine/checks/linear.ts';
import { refLinear, refLinearVjp } from '../../src/engine/reference/linear.ts';
import { refArray } from '../../src/engine/reference/ndarray.ts';
import { fixtureTensor as get, gpuForwardBackward, type Arr, worstExcess } from '../setup/fixtures.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(linearChecks);



const TOL = 1e-5;
const GRADS = ['x', 'weight', 'bias'];

describe('linear vs PyTorch 1.13 (x [2,6,8], weight [5,8], bias [5])', () => {
  const [x, w, b, g] = ['x', 'weight', 'bias', 'grad_out'].map((n) => get(`linear.${n}`)) as [Arr, Arr, Arr, Arr];

  test('float64 reference: forward and gradients', () => {
    const [rx, rw, rb, rg] = [x, w, b, g].map((a) => refArray(a.shape, a.data));
    expect(worstExcess(refLinear(rx!, rw!, rb!).data, get('linear.out').data, TOL)).toBeLessThan(TOL);
    refLinearVjp(rx!, rw!, rb!, rg!).forEach((grad, i) => {
      expect(worstExcess(grad!.data, get(`linear.grad.${GRADS[i]}`).data, TOL), GRADS[i]).toBeLessThan(TOL);
    });
  });

  test('GPU: forward and gradients', async () => {
    const r = await gpuForwardBackward('linear', [x, w, b], g);
    expect(worstExcess(r.out, get('linear.out').data, TOL)).toBeLessThan(TOL);
    GRADS.forEach((n, i) => {
      expect(worstExcess(r.grads[i]!, get(`linear.grad.${n}`).data, TOL), n).toBeLessThan(TOL);
    });
  });
});

test('linear: shape errors name the op, the argument and the shapes', async () => {
  const messages = await inPage(async () => {
    const d = (window as any).ddpm;
    const errorOf = (x: number[], w: number[], b: number[] | null) =>
      d.scope(() => {
        try {
          d.linear(d.zeros(x), d.zeros(w), b && d.zeros(b));
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      });
    return [errorOf([4, 7], [3, 8], null), errorOf([4, 8], [3, 8], [4]), errorOf([4, 8], [3, 8, 1], null)];
  });
  expect(messages[0]).toBe('linear: x [4,7] must end in 8 features to match w [3,8]');
  expect(messages[1]).toBe('linear: b [4] must be [3] to match w [3,8]');
  expect(messages[2]).toBe('linear: w [3,8,1] must be [out, in]');
});
