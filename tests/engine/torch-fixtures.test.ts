// The foundation ops against PyTorch 1.13 (tests/fixtures/torch-reference/ops.safetensors):
// silu, linear (matmul with transposed weight + bias) and mse, forward and gradients.

import { describe, expect, test } from 'vitest';
import { relError } from '../../src/engine/checks/runner.ts';
import { fixtureTensor as get, type Arr } from '../setup/fixtures.ts';
import { inPage } from '../setup/page.ts';

const TOL = 1e-5;

describe('PyTorch 1.13 reference values', () => {
  test('silu forward and gradient', async () => {
    const r = await inPage(
      async ({ x, g }: { x: Arr; g: Arr }) => {
        const d = (window as any).ddpm;
        const xt = d.tensor(x.data, x.shape, { requiresGrad: true });
        const out = d.scope(() => {
          const y = d.silu(xt);
          d.backward(y, d.tensor(g.data, g.shape));
          return y;
        });
        const res = { out: Array.from(await out.read()), gx: Array.from(await xt.grad.read()) };
        out.dispose();
        xt.dispose();
        return res;
      },
      { x: get('silu.x'), g: get('silu.grad_out') },
    );
    expect(relError(r.out as number[], get('silu.out').data)).toBeLessThan(TOL);
    expect(relError(r.gx as number[], get('silu.grad.x').data)).toBeLessThan(TOL);
  });

  test('linear (matmul with transposed weight, plus bias) forward and gradients', async () => {
    const r = await inPage(
      async ({ x, w, b, g }: { x: Arr; w: Arr; b: Arr; g: Arr }) => {
        const d = (window as any).ddpm;
        const [xt, wt, bt] = [x, w, b].map((a) => d.tensor(a.data, a.shape, { requiresGrad: true }));
        const out = d.scope(() => {
          const y = d.add(d.matmul(xt, wt, { transposeB: true }), bt);
          d.backward(y, d.tensor(g.data, g.shape));
          return y;
        });
        const res = {
          out: Array.from(await out.read()),
          gx: Array.from(await xt.grad.read()),
          gw: Array.from(await wt.grad.read()),
          gb: Array.from(await bt.grad.read()),
        };
        [out, xt, wt, bt].forEach((t) => t.dispose());
        return res;
      },
      { x: get('linear.x'), w: get('linear.weight'), b: get('linear.bias'), g: get('linear.grad_out') },
    );
    expect(relError(r.out as number[], get('linear.out').data)).toBeLessThan(TOL);
    expect(relError(r.gx as number[], get('linear.grad.x').data)).toBeLessThan(TOL);
    expect(relError(r.gw as number[], get('linear.grad.weight').data)).toBeLessThan(TOL);
    expect(relError(r.gb as number[], get('linear.grad.bias').data)).toBeLessThan(TOL);
  });

  test('mse loss forward and gradients', async () => {
    const r = await inPage(
      async ({ p, t }: { p: Arr; t: Arr }) => {
        const d = (window as any).ddpm;
        const [pt, tt] = [p, t].map((a) => d.tensor(a.data, a.shape, { requiresGrad: true }));
        const loss = d.scope(() => {
          const l = d.mseLoss(pt, tt);
          d.backward(l);
          return l;
        });
        const res = { loss: await loss.item(), gp: Array.from(await pt.grad.read()), gt: Array.from(await tt.grad.read()) };
        [loss, pt, tt].forEach((x) => x.dispose());
        return res;
      },
      { p: get('mse_loss.pred'), t: get('mse_loss.target') },
    );
    expect(relError([r.loss], get('mse_loss.out').data)).toBeLessThan(TOL);
    expect(relError(r.gp as number[], get('mse_loss.grad.pred').data)).toBeLessThan(TOL);
    expect(relError(r.gt as number[], get('mse_loss.grad.target').data)).toBeLessThan(TOL);
  });
});
