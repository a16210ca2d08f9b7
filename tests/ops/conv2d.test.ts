// conv2d: every check case (float64 reference vs finite differences in Node, GPU vs reference in
// the page), argument validation, and forward + gradients against PyTorch 1.13
// (tests/fixtures/torch-reference/ops.safetensors: conv3x3, conv3x3_s2, conv1x1).

import { describe, expect, test } from 'vitest';
import { conv2dChecks } from '../../src/engine/checks/conv2d.ts';
import { relError } from '../../src/engine/checks/runner.ts';
import { conv2dGeometry } from '../../src/engine/ops/conv2d.ts';
import { refConv2d, refConv2dVjp } from '../../src/engine/reference/conv2d.ts';
import { refArray } from '../../src/engine/reference/ndarray.ts';
import { fixtureTensor as get, type Arr } from '../setup/fixtures.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(conv2dChecks);

describe('conv2d argument checks', () => {
  test('output size, stride and padding forms', () => {
    const g = conv2dGeometry([2, 5, 9, 9], [7, 5, 3, 3], { stride: 2, padding: [1, 0] });
    expect([g.outH, g.outW, ...g.pad]).toEqual([5, 4, 1, 1, 0, 0]);
    expect(conv2dGeometry([1, 3, 8, 8], [4, 3, 3, 3], { padding: [0, 1, 0, 1] }).outH).toBe(7);
  });
  test('errors name the op, the argument and the shapes', () => {
    expect(() => conv2dGeometry([2, 3, 8, 8], [4, 5, 3, 3], {})).toThrow(
      'conv2d: x [2,3,8,8] has 3 channels but w [4,5,3,3] expects 5',
    );
    expect(() => conv2dGeometry([2, 3, 8], [4, 3, 3, 3], {})).toThrow('conv2d: x must be [N,Cin,H,W], got [2,3,8]');
    expect(() => conv2dGeometry([1, 1, 2, 2], [1, 1, 3, 3], {})).toThrow('does not fit x [1,1,2,2]');
    expect(() => conv2dGeometry([1, 1, 4, 4], [1, 1, 3, 3], { stride: 0 })).toThrow(
      'stride must be a positive integer',
    );
    expect(() => conv2dGeometry([1, 1, 4, 4], [1, 1, 3, 3], { padding: [1, 2, 3] as never })).toThrow('padding');
  });
});

type Arrays = { x: Arr; w: Arr; b: Arr; g: Arr };
/** Relative norm error allowed against PyTorch's float32 results. */
const TORCH_TOL = 1e-5;

const TORCH_CASES = [
  { name: 'conv3x3', stride: 1, padding: 1 },
  { name: 'conv3x3_s2', stride: 2, padding: 1 },
  { name: 'conv1x1', stride: 1, padding: 0 },
];

describe('conv2d vs PyTorch 1.13', () => {
  for (const { name, stride, padding } of TORCH_CASES) {
    const [x, w, b, g] = ['x', 'weight', 'bias', 'grad_out'].map((k) => get(`${name}.${k}`)) as [Arr, Arr, Arr, Arr];
    const expected = {
      out: get(`${name}.out`).data,
      gx: get(`${name}.grad.x`).data,
      gw: get(`${name}.grad.weight`).data,
      gb: get(`${name}.grad.bias`).data,
    };

    test(`${name}: float64 reference forward and gradients`, () => {
      const ref = (a: Arr) => refArray(a.shape, a.data);
      const opts = { stride, padding };
      const out = refConv2d(ref(x), ref(w), ref(b), opts);
      const [gx, gw, gb] = refConv2dVjp(ref(x), ref(w), ref(b), ref(g), opts);
      expect(relError(out.data, expected.out)).toBeLessThan(TORCH_TOL);
      expect(relError(gx.data, expected.gx)).toBeLessThan(TORCH_TOL);
      expect(relError(gw.data, expected.gw)).toBeLessThan(TORCH_TOL);
      expect(relError(gb!.data, expected.gb)).toBeLessThan(TORCH_TOL);
    });

    test(`${name}: GPU forward and gradients`, async () => {
      const r = await inPage(
        async ({ x, w, b, g, stride, padding }: Arrays & { stride: number; padding: number }) => {
          const d = (window as any).ddpm;
          const [xt, wt, bt] = [x, w, b].map((a) => d.tensor(a.data, a.shape, { requiresGrad: true }));
          const out = d.scope(() => {
            const y = d.conv2d(xt, wt, bt, { stride, padding });
            d.backward(y, d.tensor(g.data, g.shape));
            return y;
          });
          const res = {
            out: Array.from(await out.read()) as number[],
            gx: Array.from(await xt.grad.read()) as number[],
            gw: Array.from(await wt.grad.read()) as number[],
            gb: Array.from(await bt.grad.read()) as number[],
          };
          [out, xt, wt, bt].forEach((t) => t.dispose());
          return res;
        },
        { x, w, b, g, stride, padding },
      );
      expect(relError(r.out, expected.out), 'forward').toBeLessThan(TORCH_TOL);
      expect(relError(r.gx, expected.gx), 'grad x').toBeLessThan(TORCH_TOL);
      expect(relError(r.gw, expected.gw), 'grad weight').toBeLessThan(TORCH_TOL);
      expect(relError(r.gb, expected.gb), 'grad bias').toBeLessThan(TORCH_TOL);
    });
  }
});
