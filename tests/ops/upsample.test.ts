// upsampleNearest2x: the shared check cases, PyTorch 1.13's F.interpolate(scale_factor=2,
// mode="nearest") (tests/fixtures/torch-reference/ops.safetensors) and the argument error.

import { describe, expect, test } from 'vitest';
import { upsampleChecks } from '../../src/engine/checks/upsample.ts';
import { relError } from '../../src/engine/checks/runner.ts';
import { refArray } from '../../src/engine/reference/ndarray.ts';
import { refUpsampleNearest2x, refUpsampleNearest2xVjp } from '../../src/engine/reference/upsample.ts';
import { fixtureTensor, type Arr } from '../setup/fixtures.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(upsampleChecks);

const TORCH_TOLERANCE = 1e-5;
const fixture = (name: string): Arr => fixtureTensor(`interp_nearest2x.${name}`);


describe('upsampleNearest2x against PyTorch 1.13 F.interpolate(nearest, ×2)', () => {
  const [x, gradOut] = ['x', 'grad_out'].map(fixture) as [Arr, Arr];

  test('float64 reference: forward and gradient', () => {
    const xr = refArray(x.shape, x.data);
    const out = refUpsampleNearest2x(xr);
    expect(out.shape).toEqual(fixture('out').shape);
    expect(relError(out.data, fixture('out').data)).toBeLessThan(TORCH_TOLERANCE);
    const dx = refUpsampleNearest2xVjp(xr, refArray(gradOut.shape, gradOut.data));
    expect(relError(dx.data, fixture('grad.x').data)).toBeLessThan(TORCH_TOLERANCE);
  });

  test('GPU: forward and gradient', async () => {
    const r = await inPage(
      async ({ x, g }: { x: Arr; g: Arr }) => {
        const d = (window as any).ddpm;
        const xt = d.tensor(x.data, x.shape, { requiresGrad: true });
        const out = d.scope(() => {
          const y = d.upsampleNearest2x(xt);
          d.backward(y, d.tensor(g.data, g.shape));
          return y;
        });
        const res = {
          shape: [...out.shape] as number[],
          out: Array.from((await out.read()) as Float32Array),
          dx: Array.from((await xt.grad.read()) as Float32Array),
        };
        [out, xt].forEach((t) => t.dispose());
        return res;
      },
      { x, g: gradOut },
    );
    expect(r.shape).toEqual(fixture('out').shape);
    expect(relError(r.out, fixture('out').data)).toBeLessThan(TORCH_TOLERANCE);
    expect(relError(r.dx, fixture('grad.x').data)).toBeLessThan(TORCH_TOLERANCE);
  });
});

test('upsampleNearest2x names the op, the argument and the shape in its error', async () => {
  const message = await inPage(() => {
    const d = (window as any).ddpm;
    const x = d.zeros([3, 4, 5]);
    try {
      d.upsampleNearest2x(x);
      return 'no error';
    } catch (e) {
      return (e as Error).message;
    } finally {
      x.dispose();
    }
  });
  expect(message).toBe('upsampleNearest2x: x [3,4,5] must be [N, C, H, W]');
});
