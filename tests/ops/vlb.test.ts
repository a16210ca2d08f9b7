// normalKl and discretizedGaussianLogLikelihood (src/engine/ops/vlb.ts): the shared gradient
// checks, then properties of the two terms, in float64 (Node) and on the GPU.

import { describe, expect, test } from 'vitest';
import { binCentre, vlbChecks } from '../../src/engine/checks/vlb.ts';
import { Rng } from '../../src/engine/random.ts';
import {
  discretizedGaussianLogLikelihoodPartials,
  discretizedGaussianLogLikelihoodPoint,
  literalDiscretizedGaussianLogLikelihood,
  normalKlPoint,
} from '../../src/engine/reference/vlb.ts';
import { inPage } from '../setup/page.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(vlbChecks);

/** (mean, logScale) pairs: inside and outside [−1, 1], at the edges, σ from 1e−4 to 400. */
const BIN_SUM_PAIRS: [number, number][] = [0, 0.5, -0.97, 1, 0.999, -1.3, 2.5].flatMap((m) =>
  [-9, -7, -5, -4, -2, -1, 0, 1, 2, 4, 6].map((s): [number, number] => [m, s]),
);

/**
 * Σ over the 256 bins of e^(log-likelihood) telescopes to Φ(∞) − Φ(−∞) = 1 for any CDF, the
 * tanh approximation included, up to the 1e−12 floor of each bin below it (≤ 2.6e−10). With
 * bin centres rounded to float32 (as every tensor holds them) the bins no longer tile exactly:
 * gaps and overlaps of ~3e−8 cost up to ~1.7e−6 of mass when σ is about a bin.
 */
const BIN_SUM_EXACT_TOLERANCE = 3e-10;
const BIN_SUM_FLOAT32_TOLERANCE = 5e-6;

function binSum(mean: number, logScale: number, centre: (k: number) => number): number {
  let s = 0;
  for (let k = 0; k < 256; k++) s += Math.exp(discretizedGaussianLogLikelihoodPoint(centre(k), mean, logScale));
  return s;
}

/** ∫ N(x; m1, e^lv1)·log(N(x; m1, e^lv1) / N(x; m2, e^lv2)) dx by Simpson's rule over m1 ± 15σ1. */
function integratedKl(m1: number, lv1: number, m2: number, lv2: number): number {
  const logPdf = (x: number, m: number, lv: number) => -0.5 * (Math.log(2 * Math.PI) + lv + (x - m) ** 2 * Math.exp(-lv));
  const s1 = Math.exp(lv1 / 2);
  const n = 20000;
  const h = (30 * s1) / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const x = m1 - 15 * s1 + i * h;
    const lp = logPdf(x, m1, lv1);
    const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
    acc += w * Math.exp(lp) * (lp - logPdf(x, m2, lv2));
  }
  return (acc * h) / 3;
}

describe('normalKl properties (float64)', () => {
  test('KL of a Gaussian with itself is exactly 0, and KL ≥ 0 otherwise', () => {
    const rng = new Rng(7);
    let smallest = Infinity;
    for (let i = 0; i < 20000; i++) {
      const m = 3 * rng.normal();
      const lv = -12 + 18 * rng.uniform();
      expect(normalKlPoint(m, lv, m, lv)).toBe(0);
      // Half the pairs nearly identical, where ½(e^d − 1 − d) is a tiny difference.
      const near = i % 2 === 0 ? 1e-6 : 1;
      smallest = Math.min(smallest, normalKlPoint(m, lv, m + near * rng.normal(), lv + near * rng.normal()));
    }
    expect(smallest).toBeGreaterThanOrEqual(0);
  });

  test('the closed form matches numerical integration of p·log(p/q)', () => {
    const cases: [number, number, number, number][] = [
      [0, 0, 0, 0],
      [0.3, -1, -0.5, 0.4],
      [1, 2, -1, -3],
      [-0.2, -6, 0.1, -5],
      [0.05, -9.2, 0, -9.0],
    ];
    for (const [m1, lv1, m2, lv2] of cases) {
      const closed = normalKlPoint(m1, lv1, m2, lv2);
      const numeric = integratedKl(m1, lv1, m2, lv2);
      expect(Math.abs(closed - numeric), `KL(${m1}, ${lv1} ‖ ${m2}, ${lv2}) = ${closed}`).toBeLessThan(
        1e-9 * Math.max(1, closed),
      );
    }
  });
});

describe('discretizedGaussianLogLikelihood properties (float64)', () => {
  test("the cancellation-free forms equal Ho et al.'s literal formula where that is accurate", () => {
    let worst = 0;
    for (let k = 0; k < 256; k += 5) {
      const x = binCentre(k);
      for (let s = -8; s <= 5; s += 0.5) {
        for (const t of [0, 0.4, -0.4, 1, -1, 3, -3, 6, -6]) {
          const mean = x - t * Math.exp(s);
          const literal = literalDiscretizedGaussianLogLikelihood(x, mean, s);
          // Below ~e^−20 the literal 1 − Φ and Φ(a) − Φ(b) lose digits even in float64.
          if (literal < -20) continue;
          const err = Math.abs(discretizedGaussianLogLikelihoodPoint(x, mean, s) - literal);
          worst = Math.max(worst, err / Math.max(1, Math.abs(literal)));
        }
      }
    }
    expect(worst).toBeLessThan(1e-8);
  });

  test('the probabilities of the 256 bins sum to 1', () => {
    for (const [mean, logScale] of BIN_SUM_PAIRS) {
      const exact = binSum(mean, logScale, (k) => k / 127.5 - 1);
      expect(Math.abs(exact - 1), `mean ${mean}, logScale ${logScale}`).toBeLessThan(BIN_SUM_EXACT_TOLERANCE);
      const rounded = binSum(mean, logScale, binCentre);
      expect(Math.abs(rounded - 1), `float32 centres, mean ${mean}, logScale ${logScale}`).toBeLessThan(
        BIN_SUM_FLOAT32_TOLERANCE,
      );
    }
  });
});

describe('vlb terms on the GPU', () => {
  test('normalKl is exactly 0 for identical Gaussians and ≥ 0 for nearly identical ones', async () => {
    const rng = new Rng(11);
    const n = 4099;
    const m = Array.from(rng.normals(n, 3));
    const lv = Array.from(rng.uniforms(n, -12, 6));
    const m2 = m.map((v, i) => v + (i % 2 === 0 ? 1e-4 : 1) * rng.normal());
    const lv2 = lv.map((v, i) => v + (i % 2 === 0 ? 1e-4 : 1) * rng.normal());
    const { self, near } = await inPage(
      async ({ m, lv, m2, lv2 }) => {
        const d = (window as any).ddpm;
        const { normalKl } = await (window as any).ddpmHarness.importModule('/src/engine/ops/vlb.ts');
        const n = m.length;
        const r = d.scope(() => {
          const [a, b, c, e] = [m, lv, m2, lv2].map((v) => d.tensor(v, [n]));
          return { self: normalKl(a, b, a, b), near: normalKl(a, b, c, e) };
        });
        const out = { self: Array.from(await r.self.read()) as number[], near: Array.from(await r.near.read()) as number[] };
        r.self.dispose();
        r.near.dispose();
        return out;
      },
      { m, lv, m2, lv2 },
    );
    expect(self.every((v) => v === 0)).toBe(true);
    expect(Math.min(...near)).toBeGreaterThanOrEqual(0);
  });

  test('the probabilities of the 256 bins sum to 1', async () => {
    const sums = await inPage(async (pairs) => {
      const d = (window as any).ddpm;
      const { discretizedGaussianLogLikelihood } = await (window as any).ddpmHarness.importModule('/src/engine/ops/vlb.ts');
      const y = d.scope(() =>
        discretizedGaussianLogLikelihood(
          d.tensor(Array.from({ length: 256 }, (_, k) => k / 127.5 - 1), [256]),
          d.tensor(pairs.map((p) => p[0]), [pairs.length, 1]),
          d.tensor(pairs.map((p) => p[1]), [pairs.length, 1]),
        ),
      );
      const logp: Float32Array = await y.read();
      y.dispose();
      return pairs.map((_, p) => logp.slice(p * 256, (p + 1) * 256).reduce((s, v) => s + Math.exp(v), 0));
    }, BIN_SUM_PAIRS);
    sums.forEach((s, p) => {
      expect(Math.abs(s - 1), `mean ${BIN_SUM_PAIRS[p]![0]}, logScale ${BIN_SUM_PAIRS[p]![1]}`).toBeLessThan(
        BIN_SUM_FLOAT32_TOLERANCE,
      );
    });
  });

  test('forward and gradients match float64 for σ from 6e−6 to 1100 and z out to ±40', async () => {
    // Every level (every 3rd), log σ ∈ [−12, 7], mean = x − z·σ: the edges, tails far past the
    // 1e−12 floor, bins holding all the mass and bins holding 1e−5 of it.
    const xs: number[] = [];
    const means: number[] = [];
    const logScales: number[] = [];
    for (let s = -12; s <= 7; s += 0.5) {
      for (const z of [0, 0.3, -0.3, 1, -1, 2.5, -2.5, 5, -5, 8, -8, 15, -15, 40, -40]) {
        for (let k = 0; k < 256; k += 3) {
          xs.push(binCentre(k));
          logScales.push(s);
          means.push(Math.fround(binCentre(k) - z * Math.exp(s)));
        }
      }
    }
    const gpu = await inPage(
      async ({ xs, means, logScales }) => {
        const d = (window as any).ddpm;
        const { discretizedGaussianLogLikelihood } = await (window as any).ddpmHarness.importModule('/src/engine/ops/vlb.ts');
        const n = xs.length;
        const r = d.scope(() => {
          const m = d.tensor(means, [n], { requiresGrad: true });
          const s = d.tensor(logScales, [n], { requiresGrad: true });
          const y = discretizedGaussianLogLikelihood(d.tensor(xs, [n]), m, s);
          d.backward(y, d.full([n], 1));
          return { y, m, s };
        });
        const out = {
          y: Array.from(await r.y.read()) as number[],
          dMeans: Array.from(await r.m.grad.read()) as number[],
          dLogScales: Array.from(await r.s.grad.read()) as number[],
        };
        for (const t of [r.y, r.m, r.s]) t.dispose();
        return out;
      },
      { xs, means, logScales },
    );
    let worst = { forward: 0, dMeans: 0, dLogScales: 0 };
    xs.forEach((x, i) => {
      const ref = discretizedGaussianLogLikelihoodPoint(x, means[i]!, logScales[i]!);
      const [dm, ds] = discretizedGaussianLogLikelihoodPartials(x, means[i]!, logScales[i]!);
      // Scaled errors: the mean gradient is measured in units of 1/σ, its natural size.
      worst = {
        forward: Math.max(worst.forward, Math.abs(gpu.y[i]! - ref) / Math.max(1, Math.abs(ref))),
        dMeans: Math.max(worst.dMeans, Math.abs(gpu.dMeans[i]! - dm) / (Math.abs(dm) + Math.exp(-logScales[i]!))),
        dLogScales: Math.max(worst.dLogScales, Math.abs(gpu.dLogScales[i]! - ds) / (Math.abs(ds) + 1)),
      };
    });
    // Measured on SwiftShader (all 256 levels): at most 7e−7, 9e−7 and 1.1e−6.
    expect(worst.forward).toBeLessThan(1e-5);
    expect(worst.dMeans).toBeLessThan(1e-5);
    expect(worst.dLogScales).toBeLessThan(1e-5);
  });
});
