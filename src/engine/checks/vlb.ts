// Check cases for normalKl and discretizedGaussianLogLikelihood (src/engine/ops/vlb.ts).

import { mulScalar } from '../ops/elementwise.ts';
import { discretizedGaussianLogLikelihood, normalKl } from '../ops/vlb.ts';
import { refArray, type Ref } from '../reference/ndarray.ts';
import {
  refDiscretizedGaussianLogLikelihood,
  refDiscretizedGaussianLogLikelihoodVjp,
  refNormalKl,
  refNormalKlVjp,
} from '../reference/vlb.ts';
import { tensor } from '../tensor.ts';
import type { CheckCase, Distribution, InputSpec, OpCheck } from './runner.ts';

/**
 * Broadcasting per sample and both-sided, odd sizes, tiny variances (log β₁ ≈ −9.2 in DDPM's
 * linear schedule), and two nearly identical Gaussians (a learned variance close to the
 * posterior's), where ½(e^d − 1 − d) must not cancel to rounding noise.
 */
const KL_CASES: {
  name: string;
  shapes: [number[], number[], number[], number[]];
  mean?: Distribution;
  logvar?: Distribution;
}[] = [
  { name: 'same [2,3,5,7]', shapes: [[2, 3, 5, 7], [2, 3, 5, 7], [2, 3, 5, 7], [2, 3, 5, 7]] },
  { name: 'logvar1 per sample [3,2,5,5]', shapes: [[3, 2, 5, 5], [3, 1, 1, 1], [3, 2, 5, 5], [3, 2, 5, 5]] },
  { name: 'mixed broadcast [2,3,7]', shapes: [[1, 3, 1], [2, 3, 7], [2, 1, 7], [7]] },
  { name: 'odd [130]', shapes: [[130], [130], [1], [130]] },
  { name: 'scalar-like [1]', shapes: [[1], [1], [1], [1]] },
  {
    name: 'tiny variances [7,33]',
    shapes: [[7, 33], [7, 33], [7, 33], [7, 33]],
    logvar: { scale: 1, offset: -6 },
  },
  {
    name: 'nearly identical [7,33]',
    shapes: [[7, 33], [7, 33], [7, 33], [7, 33]],
    mean: { scale: 0.003, offset: 0.3 },
    logvar: { scale: 0.01, offset: -3 },
  },
];

const klCases: CheckCase[] = KL_CASES.map(({ name, shapes, mean, logvar }) => ({
  name,
  inputs: (['mean1', 'logvar1', 'mean2', 'logvar2'] as const).map((n, k): InputSpec => {
    const dist = k % 2 === 0 ? mean : logvar;
    return { name: n, shape: shapes[k]!, ...(dist ? { dist } : {}) };
  }),
  gpu: ([m1, lv1, m2, lv2]) => normalKl(m1!, lv1!, m2!, lv2!),
  ref: ([m1, lv1, m2, lv2]) => refNormalKl(m1!, lv1!, m2!, lv2!),
  vjp: ([m1, lv1, m2, lv2], gy) => refNormalKlVjp(m1!, lv1!, m2!, lv2!, gy),
}));

/** The 8-bit value k ∈ [0, 255] as the model sees it, rounded to float32 like every input. */
export const binCentre = (k: number): number => Math.fround(k / 127.5 - 1);

/**
 * Data x of `shape` on bin centres, cycling through `levels` in a fixed scrambled order: the
 * checks perturb only means and log-scales, and x sits on centres, far from the ±0.999 switches.
 */
function binData(shape: number[], levels: number[]): Ref {
  const x = refArray(shape);
  for (let i = 0; i < x.data.length; i++) x.data[i] = binCentre(levels[(i * 7919) % levels.length]!);
  return x;
}

const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const ALL_LEVELS = range(0, 255);

interface DgllCase {
  name: string;
  x: number[];
  means: number[];
  logScales: number[];
  levels: number[];
  meanDist: Distribution;
  logScaleDist: Distribution;
  /**
   * means = meanUnit · (the checked input). The finite differences step every input by 1e−5,
   * which moves z = (x − mean)/σ by 1e−5/σ: with σ below a bin that is too coarse, so narrow
   * cases check means in units of 1/64 (a power of two: exact in float32 and float64 alike).
   */
  meanUnit?: number;
}

/**
 * Every regime: all 256 levels (the two open-ended edge bins included) at moderate scales,
 * broadcasting, scales far below a bin (σ ≈ 0.0025 < 1/255) near the centre and at both edges,
 * and wide ones (σ ≈ 20) where a bin holds ~1e−4 of the mass.
 */
const DGLL_CASES: DgllCase[] = [
  {
    name: 'all levels [2,3,7,7]',
    x: [2, 3, 7, 7],
    means: [2, 3, 7, 7],
    logScales: [2, 3, 7, 7],
    levels: ALL_LEVELS,
    meanDist: { scale: 0.5, offset: 0 },
    logScaleDist: { scale: 1.2, offset: -1.5 },
  },
  {
    name: 'logScales per sample [3,2,5,5]',
    x: [3, 2, 5, 5],
    means: [3, 2, 5, 5],
    logScales: [3, 1, 1, 1],
    levels: ALL_LEVELS,
    meanDist: { scale: 0.6, offset: 0 },
    logScaleDist: { scale: 1, offset: -1 },
  },
  {
    name: 'mixed broadcast [2,3,7]',
    x: [1, 3, 7],
    means: [2, 3, 1],
    logScales: [7],
    levels: ALL_LEVELS,
    meanDist: { scale: 0.5, offset: 0 },
    logScaleDist: { scale: 1, offset: -1.5 },
  },
  {
    name: 'narrow near the centre [130]',
    x: [130],
    means: [130],
    logScales: [130],
    levels: [127, 128],
    meanDist: { scale: 0.006 * 64, offset: 0 },
    logScaleDist: { scale: 0.3, offset: -5.5 },
    meanUnit: 1 / 64,
  },
  {
    name: 'narrow at the top edge [7,9]',
    x: [7, 9],
    means: [7, 9],
    logScales: [7, 9],
    levels: [254, 255],
    meanDist: { scale: 0.008 * 64, offset: 0.99 * 64 },
    logScaleDist: { scale: 0.5, offset: -5 },
    meanUnit: 1 / 64,
  },
  {
    name: 'narrow at the bottom edge [7,9]',
    x: [7, 9],
    means: [7, 9],
    logScales: [7, 9],
    levels: [0, 1],
    meanDist: { scale: 0.008 * 64, offset: -0.99 * 64 },
    logScaleDist: { scale: 0.5, offset: -5 },
    meanUnit: 1 / 64,
  },
  {
    name: 'wide [5,33]',
    x: [5, 33],
    means: [5, 33],
    logScales: [5, 33],
    levels: ALL_LEVELS,
    meanDist: 'normal',
    logScaleDist: { scale: 1, offset: 3 },
  },
  {
    name: 'single [1]',
    x: [1],
    means: [1],
    logScales: [1],
    levels: [255],
    meanDist: { scale: 0.1, offset: 0.9 },
    logScaleDist: { scale: 0.1, offset: -3 },
  },
];

const dgllCases: CheckCase[] = DGLL_CASES.map((c) => {
  const x = binData(c.x, c.levels);
  const unit = c.meanUnit ?? 1;
  const toMeans = (m: Ref): Ref => (unit === 1 ? m : { shape: m.shape, data: m.data.map((v) => v * unit) });
  return {
    name: c.name,
    inputs: [
      { name: unit === 1 ? 'means' : `${1 / unit}·means`, shape: c.means, dist: c.meanDist },
      { name: 'logScales', shape: c.logScales, dist: c.logScaleDist },
    ],
    // x is data, not an input: made here so it lies on bin centres (the scope frees it).
    gpu: ([m, logScales]) =>
      discretizedGaussianLogLikelihood(
        tensor(Float32Array.from(x.data), x.shape),
        unit === 1 ? m! : mulScalar(m!, unit),
        logScales!,
      ),
    ref: ([m, logScales]) => refDiscretizedGaussianLogLikelihood(x, toMeans(m!), logScales!),
    vjp: ([m, logScales], gy) => {
      const [dMeans, dLogScales] = refDiscretizedGaussianLogLikelihoodVjp(x, toMeans(m!), logScales!, gy);
      return [toMeans(dMeans), dLogScales];
    },
  };
});

export const vlbChecks: OpCheck[] = [
  { op: 'normalKl', cases: klCases },
  { op: 'discretizedGaussianLogLikelihood', cases: dgllCases },
];
