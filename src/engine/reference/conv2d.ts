// Float64 reference for conv2d (NCHW, any stride and padding) and its vector-Jacobian product,
// written straight from the definition: one loop nest visits every (output, tap) pair.

import { conv2dGeometry, type Conv2dGeometry, type Conv2dOptions } from '../ops/conv2d.ts';
import { refArray, type Ref } from './ndarray.ts';

/**
 * Calls `visit(outIndex, xIndex, wIndex)` for every output element and every tap that
 * lands inside x (padding contributes nothing).
 */
function forEachTap(g: Conv2dGeometry, visit: (o: number, xi: number, wi: number) => void): void {
  const { n, cin, h, w, cout, kh, kw, stride, pad, outH, outW } = g;
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          const o = ((b * cout + co) * outH + oy) * outW + ox;
          for (let ci = 0; ci < cin; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * stride - pad[0] + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * stride - pad[2] + kx;
                if (ix < 0 || ix >= w) continue;
                visit(o, ((b * cin + ci) * h + iy) * w + ix, ((co * cin + ci) * kh + ky) * kw + kx);
              }
            }
          }
        }
      }
    }
  }
}

export function refConv2d(x: Ref, w: Ref, bias: Ref | null, options: Conv2dOptions = {}): Ref {
  const g = conv2dGeometry(x.shape, w.shape, options, 'refConv2d');
  const out = refArray([g.n, g.cout, g.outH, g.outW]);
  forEachTap(g, (o, xi, wi) => {
    out.data[o] += x.data[xi]! * w.data[wi]!;
  });
  if (bias) {
    const plane = g.outH * g.outW;
    for (let o = 0; o < out.data.length; o++) out.data[o] += bias.data[Math.floor(o / plane) % g.cout]!;
  }
  return out;
}

/** [dx, dw, dbias] of Σ conv2d(x, w, bias)·gy; dbias is null without a bias. */
export function refConv2dVjp(
  x: Ref,
  w: Ref,
  bias: Ref | null,
  gy: Ref,
  options: Conv2dOptions = {},
): [Ref, Ref, Ref | null] {
  const g = conv2dGeometry(x.shape, w.shape, options, 'refConv2dVjp');
  const dx = refArray(x.shape);
  const dw = refArray(w.shape);
  forEachTap(g, (o, xi, wi) => {
    dx.data[xi] += gy.data[o]! * w.data[wi]!;
    dw.data[wi] += gy.data[o]! * x.data[xi]!;
  });
  let db: Ref | null = null;
  if (bias) {
    db = refArray(bias.shape);
    const plane = g.outH * g.outW;
    for (let o = 0; o < gy.data.length; o++) db.data[Math.floor(o / plane) % g.cout] += gy.data[o]!;
  }
  return [dx, dw, db];
}
