// Float64 reference for conv2d (NCHW, any stride and padding) and its vector-Jacobian product,
// written straight from the definition: one loop nest visits every (output, tap) pair. It shares
// no geometry with the op it checks (src/engine/ops/conv2d.ts, shape.ts conv2dOutputShape): the
// output size is counted here as the window positions that fit, so a wrong formula there shows up.

import { type Conv2dGeometry, fmt, type Conv2dOptions, type Conv2dPadding } from '../shape.ts';
import { refArray, type Ref } from './ndarray.ts';

/** Window placements along one axis: at 0, stride, 2·stride, … while the kernel lies inside the padded input. */
function windowCount(size: number, padBefore: number, padAfter: number, kernel: number, stride: number): number {
  let count = 0;
  while (count * stride + kernel <= padBefore + size + padAfter) count++;
  return count;
}

function sides(padding: Conv2dPadding): [number, number, number, number] {
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
  return [padding[0], padding[1], padding[2], padding[3]];
}

function geometry(op: string, x: Ref, w: Ref, options: Conv2dOptions): Conv2dGeometry {
  const [n, cin, h, width] = x.shape as [number, number, number, number];
  const [cout, wcin, kh, kw] = w.shape as [number, number, number, number];
  const stride = options.stride ?? 1;
  const pad = sides(options.padding ?? 0);
  if (x.shape.length !== 4 || w.shape.length !== 4 || wcin !== cin || !(stride >= 1) || kh < 1 || kw < 1 || pad.some((p) => !(p >= 0))) {
    throw new Error(`${op}: bad arguments x ${fmt(x.shape)}, w ${fmt(w.shape)}, stride ${stride}, padding [${pad}]`);
  }
  const outH = windowCount(h, pad[0], pad[1], kh, stride);
  const outW = windowCount(width, pad[2], pad[3], kw, stride);
  if (outH < 1 || outW < 1) throw new Error(`${op}: w ${fmt(w.shape)} does not fit x ${fmt(x.shape)} padded by [${pad}]`);
  return { n, cin, h, w: width, cout, kh, kw, stride, pad, outH, outW };
}

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
  const g = geometry('refConv2d', x, w, options);
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
  const g = geometry('refConv2dVjp', x, w, options);
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
