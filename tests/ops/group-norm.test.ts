// groupNorm (+ fused SiLU): the shared check cases, PyTorch 1.13's F.group_norm
// (tests/fixtures/torch-reference/ops.safetensors) and the argument errors.

import { describe, expect, test } from 'vitest';
import { groupNormChecks } from '../../src/engine/checks/group-norm.ts';
import { relError } from '../../src/engine/checks/runner.ts';
import { refArray } from '../../src/engine/reference/ndarray.ts';
import { refGroupNorm, refGroupNormVjp } from '../../src/engine/reference/group-norm.ts';
import { fixtureTensor, type Arr } from '../setup/fixtures.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(groupNormChecks);

const TORCH_TOLERANCE = 1e-5;
const fixture = (name: string): Arr => fixtureTensor(`group_norm.${name}`);
const GROUPS = 4; // F.group_norm(x (2,8,5,5), 4 groups, weight, bias, eps=1e-5)

const asRef = (a: Arr) => refArray(a.shape, a.data);

describe('groupNorm against PyTorch 1.13 F.group_norm', () => {
  const [x, weight, bias, gradOut] = ['x', 'weight', 'bias', 'grad_out'].map(fixture) as [Arr, Arr, Arr, Arr];

  test('float64 reference: forward and every gradient', () => {
    const options = { groups: GROUPS };
    const out = refGroupNorm(asRef(x), asRef(weight), asRef(bias), options);
    const [dx, dw, db] = refGroupNormVjp(asRef(x), asRef(weight), asRef(bias), asRef(gradOut), options);
    expect(relError(out.data, fixture('out').data)).toBeLessThan(TORCH_TOLERANCE);
    expect(relError(dx.data, fixture('grad.x').data)).toBeLessThan(TORCH_TOLERANCE);
    expect(relError(dw.data, fixture('grad.weight').data)).toBeLessThan(TORCH_TOLERANCE);
    expect(relError(db.data, fixture('grad.bias').data)).toBeLessThan(TORCH_TOLERANCE);
  });

  test('GPU: forward and every gradient', async () => {
    const r = await inPage(
      async ({ x, w, b, g, groups }: { x: Arr; w: Arr; b: Arr; g: Arr; groups: number }) => {
        const d = (window as any).ddpm;
        const [xt, wt, bt] = [x, w, b].map((a) => d.tensor(a.data, a.shape, { requiresGrad: true }));
        const out = d.scope(() => {
          const y = d.groupNorm(xt, wt, bt, { groups });
          d.backward(y, d.tensor(g.data, g.shape));
          return y;
        });
        const res = {
          out: Array.from((await out.read()) as Float32Array),
          dx: Array.from((await xt.grad.read()) as Float32Array),
          dw: Array.from((await wt.grad.read()) as Float32Array),
          db: Array.from((await bt.grad.read()) as Float32Array),
        };
        [out, xt, wt, bt].forEach((t) => t.dispose());
        return res;
      },
      { x, w: weight, b: bias, g: gradOut, groups: GROUPS },
    );
    expect(relError(r.out, fixture('out').data)).toBeLessThan(TORCH_TOLERANCE);
    expect(relError(r.dx, fixture('grad.x').data)).toBeLessThan(TORCH_TOLERANCE);
    expect(relError(r.dw, fixture('grad.weight').data)).toBeLessThan(TORCH_TOLERANCE);
    expect(relError(r.db, fixture('grad.bias').data)).toBeLessThan(TORCH_TOLERANCE);
  });
});

test('groupNorm names the op, the argument and the shapes in its errors', async () => {
  const messages = await inPage(() => {
    const d = (window as any).ddpm;
    const attempt = (f: () => unknown): string => {
      try {
        f();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const x = d.zeros([2, 6, 3, 3]);
    const six = d.zeros([6]);
    const four = d.zeros([4]);
    const result = [
      attempt(() => d.groupNorm(x, six, six, { groups: 4 })),
      attempt(() => d.groupNorm(x, four, six, { groups: 3 })),
      attempt(() => d.groupNorm(x, six, four, { groups: 3 })),
      attempt(() => d.groupNorm(six, six, six, { groups: 1 })),
    ];
    [x, six, four].forEach((t) => t.dispose());
    return result;
  });
  expect(messages).toEqual([
    'groupNorm: groups 4 does not divide the 6 channels of x [2,6,3,3]',
    'groupNorm: gamma [4] must be [6] for x [2,6,3,3]',
    'groupNorm: beta [4] must be [6] for x [2,6,3,3]',
    'groupNorm: x [6] needs at least two axes [N, C, ...]',
  ]);
});
