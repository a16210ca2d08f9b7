// conv2d: every check case (float64 reference vs finite differences in Node, GPU vs reference in
// the page), argument validation, and forward + gradients against PyTorch 1.13
// (tests/fixtures/torch-reference/ops.safetensors: conv3x3, conv3x3_s2, conv1x1).

import { describe, expect, test } from 'vitest';
import { CONV2D_CASES, conv2dChecks } from '../../src/engine/checks/conv2d.ts';
import { relError } from '../../src/engine/checks/runner.ts';
import { conv2dGeometry } from '../../src/engine/ops/conv2d.ts';
import { refConv2d, refConv2dVjp } from '../../src/engine/reference/conv2d.ts';
import { refArray } from '../../src/engine/reference/ndarray.ts';
import { conv2dOutputShape, type Conv2dPadding } from '../../src/engine/shape.ts';
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

describe('conv2d output size', () => {
  /** PyTorch's Conv2d formula (dilation 1); asymmetric padding is F.pad followed by an unpadded conv. */
  const torchOut = (size: number, k: number, stride: number, before: number, after: number) =>
    Math.floor((size + before + after - (k - 1) - 1) / stride) + 1;
  const sides = (p: Conv2dPadding): number[] =>
    typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : [...p];
  const cases: { x: number[]; w: number[]; stride?: number; padding?: Conv2dPadding }[] = [
    ...CONV2D_CASES,
    { x: [1, 1, 8, 8], w: [1, 1, 3, 3], stride: 2, padding: [0, 1, 0, 1] },
    { x: [1, 1, 8, 9], w: [1, 1, 3, 3], stride: 2, padding: [1, 0, 0, 1] },
    { x: [1, 1, 10, 7], w: [1, 1, 4, 2], stride: 3, padding: [2, 0, 1, 3] },
    { x: [1, 1, 5, 5], w: [1, 1, 1, 1], stride: 4, padding: [0, 3, 2, 0] },
    { x: [1, 1, 2, 3], w: [1, 1, 5, 5], stride: 1, padding: [2, 1, 1, 2] },
    { x: [1, 1, 6, 6], w: [1, 1, 3, 2], stride: 5, padding: [1, 2] },
    { x: [1, 1, 32, 32], w: [1, 1, 3, 3], stride: 2, padding: 1 },
  ];
  for (const { x, w, stride = 1, padding = 0 } of cases) {
    test(`x [${x}] w [${w}] stride ${stride} padding ${JSON.stringify(padding)}`, () => {
      const [t, b, l, r] = sides(padding) as [number, number, number, number];
      const expected = [x[0], w[0], torchOut(x[2]!, w[2]!, stride, t, b), torchOut(x[3]!, w[3]!, stride, l, r)];
      // The reference counts its window positions; the op's shared geometry uses the formula.
      expect(refConv2d(refArray(x), refArray(w), null, { stride, padding }).shape).toEqual(expected);
      expect(conv2dOutputShape(x, w, { stride, padding })).toEqual(expected);
      const g = conv2dGeometry(x, w, { stride, padding });
      expect([g.n, g.cout, g.outH, g.outW]).toEqual(expected);
    });
  }
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
