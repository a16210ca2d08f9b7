// Float64 references for the two elementwise terms of the DDPM variational bound: the Gaussian
// KL divergence and the discretised Gaussian log-likelihood of 8-bit data (Ho et al.,
// diffusion_utils_2.py), with their vector-Jacobian products.
// The likelihood is written in the same cancellation-free forms as the WGSL in
// src/shaders/vlb.ts, so the two agree where a literal float32 transcription would not.

import { broadcastShapes, broadcastStrides, type Shape } from '../shape.ts';
import { refArray, refSumTo, unravel, type Ref } from './ndarray.ts';

// ---- broadcasting over several inputs -------------------------------------------------------

/** The broadcast shape of all inputs (numpy rules). */
function broadcastAll(shapes: readonly Shape[]): number[] {
  return shapes.reduce<number[]>((acc, s) => broadcastShapes('reference', acc, s), []);
}

/** out[i] = f(values of every input at i), and per-input partials summed back to each shape. */
function mapBroadcast(inputs: readonly Ref[], f: (v: number[]) => number): Ref {
  const shape = broadcastAll(inputs.map((x) => x.shape));
  const strides = inputs.map((x) => broadcastStrides(x.shape, shape));
  const out = refArray(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(gather(inputs, strides, unravel(i, shape)));
  return out;
}

function gather(inputs: readonly Ref[], strides: number[][], coords: number[]): number[] {
  return inputs.map((x, k) => {
    let j = 0;
    for (let d = 0; d < coords.length; d++) j += coords[d]! * strides[k]![d]!;
    return x.data[j]!;
  });
}

/** Σ gy · ∂f/∂input_k, summed over broadcast axes, for every k in `wanted`. */
function vjpBroadcast(inputs: readonly Ref[], gy: Ref, partials: (v: number[]) => number[], wanted: number[]): Ref[] {
  const shape = gy.shape;
  const strides = inputs.map((x) => broadcastStrides(x.shape, shape));
  const full = wanted.map(() => refArray(shape));
  for (let i = 0; i < gy.data.length; i++) {
    const p = partials(gather(inputs, strides, unravel(i, shape)));
    wanted.forEach((k, w) => (full[w]!.data[i] = gy.data[i]! * p[k]!));
  }
  return wanted.map((k, w) => refSumTo(full[w]!, inputs[k]!.shape));
}

// ---- Gaussian KL ----------------------------------------------------------------------------

/**
 * KL(N(m1, e^lv1) ‖ N(m2, e^lv2)) in nats, as ½((e^d − 1 − d) + (m1 − m2)²·e^(−lv2)) with
 * d = lv1 − lv2: the same value as ½(−1 + lv2 − lv1 + e^d + (m1 − m2)²·e^(−lv2)), in the
 * grouping the kernel uses (two terms that are never negative).
 */
export function normalKlPoint(m1: number, lv1: number, m2: number, lv2: number): number {
  const d = lv1 - lv2;
  return 0.5 * (Math.expm1(d) - d + (m1 - m2) ** 2 * Math.exp(-lv2));
}

/** ∂KL/∂(m1, lv1, m2, lv2). */
export function normalKlPartials(m1: number, lv1: number, m2: number, lv2: number): [number, number, number, number] {
  const dm = (m1 - m2) * Math.exp(-lv2);
  const em1 = Math.expm1(lv1 - lv2);
  return [dm, 0.5 * em1, -dm, -0.5 * (em1 + (m1 - m2) ** 2 * Math.exp(-lv2))];
}

export function refNormalKl(mean1: Ref, logvar1: Ref, mean2: Ref, logvar2: Ref): Ref {
  return mapBroadcast([mean1, logvar1, mean2, logvar2], ([a, b, c, d]) => normalKlPoint(a!, b!, c!, d!));
}

export function refNormalKlVjp(mean1: Ref, logvar1: Ref, mean2: Ref, logvar2: Ref, gy: Ref): Ref[] {
  const partials = ([a, b, c, d]: number[]) => normalKlPartials(a!, b!, c!, d!);
  return vjpBroadcast([mean1, logvar1, mean2, logvar2], gy, partials, [0, 1, 2, 3]);
}

// ---- discretised Gaussian log-likelihood ----------------------------------------------------

/** sqrt(2/π) and the cubic coefficient of the tanh approximation Φ(z) ≈ ½(1 + tanh(u(z))). */
export const GELU_C = Math.sqrt(2 / Math.PI);
export const GELU_K = 0.044715;
/** Half a bin: 8-bit values rescaled to [−1, 1] are 2/255 apart. */
export const HALF_BIN = 1 / 255;
/** Below −EDGE the bin extends to −∞, above +EDGE to +∞. */
export const EDGE = 0.999;
/** log(1e−12): the clamp on every probability. */
export const LOG_FLOOR = Math.log(1e-12);

const u = (z: number): number => GELU_C * z * (1 + GELU_K * z * z);
const du = (z: number): number => GELU_C * (1 + 3 * GELU_K * z * z);
/** 1 − e^(−y), exact near 0. */
const oneMinusExpNeg = (y: number): number => -Math.expm1(-y);
/** log(1 + e^(−2|v|)). */
const logOnePlusExpNeg2Abs = (v: number): number => Math.log1p(Math.exp(-2 * Math.abs(v)));
const logSigmoid = (y: number): number => Math.min(y, 0) - Math.log1p(Math.exp(-Math.abs(y)));
const sigmoid = (y: number): number => (y >= 0 ? 1 / (1 + Math.exp(-y)) : Math.exp(y) / (1 + Math.exp(y)));

/** The quantities every branch needs at one element. */
function bin(x: number, mean: number, logScale: number) {
  const centered = x - mean;
  const inv = Math.exp(-logScale);
  const za = inv * (centered + HALF_BIN);
  const zb = inv * (centered - HALF_BIN);
  const q = za * za + za * zb + zb * zb;
  // u(za) − u(zb) factored so the bin width 2·inv/255 never comes from a subtraction.
  const d = GELU_C * (2 * HALF_BIN * inv) * (1 + GELU_K * q);
  return { inv, za, zb, ua: u(za), ub: u(zb), q, d };
}

/**
 * log(Φ(za) − Φ(zb)) = log(½(tanh ua − tanh ub)) = log(sinh D / (2 cosh ua cosh ub)) with
 * D = ua − ub, regrouped so that no two large terms cancel:
 * −2·max(ub, 0) + 2·min(ua, 0) + log(1 − e^(−2D)) − log(1 + e^(−2|ua|)) − log(1 + e^(−2|ub|)).
 */
function logBinMass(ua: number, ub: number, d: number): number {
  return (
    -2 * Math.max(ub, 0) +
    2 * Math.min(ua, 0) +
    Math.log(oneMinusExpNeg(2 * d)) -
    logOnePlusExpNeg2Abs(ua) -
    logOnePlusExpNeg2Abs(ub)
  );
}

/** The log-likelihood of one 8-bit value x ∈ [−1, 1] (nats). */
export function discretizedGaussianLogLikelihoodPoint(x: number, mean: number, logScale: number): number {
  const { ua, ub, d } = bin(x, mean, logScale);
  // log Φ(za) = log σ(2ua); log(1 − Φ(zb)) = log σ(−2ub).
  const unclamped = x < -EDGE ? logSigmoid(2 * ua) : x > EDGE ? logSigmoid(-2 * ub) : logBinMass(ua, ub, d);
  return Math.max(unclamped, LOG_FLOOR);
}

/**
 * ∂/∂ua and ∂/∂ub of log(Φ(za) − Φ(zb)) are coth D − tanh ua = cosh ub / (sinh D cosh ua) and
 * −(coth D + tanh ub) = −cosh ua / (sinh D cosh ub). Narrow bins (D ≥ 1): those positive
 * ratios, regrouped like logBinMass. Wide bins (D < 1): the two nearly cancel in the mean and
 * scale gradients, so they are combined by hand first (w = D·coth D, p = 1 + K·q).
 */
function binMassPartials(b: ReturnType<typeof bin>): [number, number] {
  const { inv, za, zb, ua, ub, q, d } = b;
  const dua = du(za);
  const dub = du(zb);
  if (d < 1) {
    const w = d > 0 ? (d * (2 - oneMinusExpNeg(2 * d))) / oneMinusExpNeg(2 * d) : 1;
    const p = 1 + GELU_K * q;
    const ta = Math.tanh(ua);
    const tb = Math.tanh(ub);
    const dMean = -inv * ((3 * GELU_K * (za + zb) * w) / p - (ta * dua + tb * dub));
    const dLogScale = -(((1 + 3 * GELU_K * q) / p) * w - (ta * dua * za + tb * dub * zb));
    return [dMean, dLogScale];
  }
  // Exponents |ub| − |ua| − D and |ua| − |ub| − D, exact per sign pattern.
  const ea = ub >= 0 ? -2 * d : ua <= 0 ? 0 : -2 * ua;
  const eb = ub >= 0 ? 0 : ua <= 0 ? -2 * d : 2 * ub;
  const la = 1 + Math.exp(-2 * Math.abs(ua));
  const lb = 1 + Math.exp(-2 * Math.abs(ub));
  const t = oneMinusExpNeg(2 * d);
  const ga = (2 * Math.exp(ea) * lb) / (la * t);
  const gb = (2 * Math.exp(eb) * la) / (lb * t);
  return [-inv * (ga * dua - gb * dub), -(ga * dua * za - gb * dub * zb)];
}

/** ∂/∂mean and ∂/∂logScale of the log-likelihood (zero where a clamp holds). */
export function discretizedGaussianLogLikelihoodPartials(x: number, mean: number, logScale: number): [number, number] {
  const b = bin(x, mean, logScale);
  const { inv, za, zb, ua, ub, d } = b;
  if (x < -EDGE) {
    if (logSigmoid(2 * ua) <= LOG_FLOOR) return [0, 0];
    const g = 2 * sigmoid(-2 * ua) * du(za); // ∂/∂za
    return [-inv * g, -za * g];
  }
  if (x > EDGE) {
    if (logSigmoid(-2 * ub) <= LOG_FLOOR) return [0, 0];
    const g = -2 * sigmoid(2 * ub) * du(zb); // ∂/∂zb
    return [-inv * g, -zb * g];
  }
  if (logBinMass(ua, ub, d) <= LOG_FLOOR) return [0, 0];
  return binMassPartials(b);
}

export function refDiscretizedGaussianLogLikelihood(x: Ref, means: Ref, logScales: Ref): Ref {
  return mapBroadcast([x, means, logScales], ([a, b, c]) => discretizedGaussianLogLikelihoodPoint(a!, b!, c!));
}

/** Gradients with respect to means and logScales (x is data). */
export function refDiscretizedGaussianLogLikelihoodVjp(x: Ref, means: Ref, logScales: Ref, gy: Ref): [Ref, Ref] {
  const partials = ([a, b, c]: number[]) => [0, ...discretizedGaussianLogLikelihoodPartials(a!, b!, c!)];
  const [dm, ds] = vjpBroadcast([x, means, logScales], gy, partials, [1, 2]);
  return [dm!, ds!];
}

/** The literal formula of diffusion_utils_2.py in float64, for tests of the regrouped forms. */
export function literalDiscretizedGaussianLogLikelihood(x: number, mean: number, logScale: number): number {
  const phi = (z: number) => 0.5 * (1 + Math.tanh(GELU_C * (z + GELU_K * z ** 3)));
  const centered = x - mean;
  const inv = Math.exp(-logScale);
  const cdfPlus = phi(inv * (centered + HALF_BIN));
  const cdfMin = phi(inv * (centered - HALF_BIN));
  const logCdfPlus = Math.log(Math.max(cdfPlus, 1e-12));
  const logOneMinusCdfMin = Math.log(Math.max(1 - cdfMin, 1e-12));
  const logDelta = Math.log(Math.max(cdfPlus - cdfMin, 1e-12));
  return x < -EDGE ? logCdfPlus : x > EDGE ? logOneMinusCdfMin : logDelta;
}
