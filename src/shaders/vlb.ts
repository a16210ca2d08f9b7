// Kernels for the elementwise terms of the DDPM variational bound: the Gaussian KL divergence and
// the discretised Gaussian log-likelihood of 8-bit data, each a forward and a backward kernel.
// Inputs broadcast numpy-style: each is read through strides that are 0 along broadcast axes,
// or at the output index directly when every input has the output's shape (`plain`).

import { DIMS_ACCESSOR } from './common.ts';
import { defineKernel } from './kernel.ts';

export const VLB_WORKGROUP = 256;
/** Inputs a kernel of this family reads through strides (the KL has four). */
export const VLB_MAX_INPUTS = 4;

/** The family's uniforms: `strides{k}` of input k (VLB_MAX_INPUTS of them). */
const VLB_UNIFORMS = {
  outShape: 'dims',
  strides0: 'dims',
  strides1: 'dims',
  strides2: 'dims',
  strides3: 'dims',
  rank: 'u32',
  count: 'u32',
  /** 1 when every input has the output's shape: offsets are the output index. */
  plain: 'u32',
} as const;

/** WGSL: `inputOffsets(idx)`, the element of each input that output `idx` reads. */
const OFFSETS = /* wgsl */ `
${DIMS_ACCESSOR}
fn inputOffsets(idx: u32) -> vec4<u32> {
  if (params.plain == 1u) { return vec4<u32>(idx); }
  var rest = idx;
  var offs = vec4<u32>(0u);
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let n = dimAt(params.outShape, u32(d));
    let c = rest % n;
    rest = rest / n;
    offs += c * vec4<u32>(
      dimAt(params.strides0, u32(d)),
      dimAt(params.strides1, u32(d)),
      dimAt(params.strides2, u32(d)),
      dimAt(params.strides3, u32(d)),
    );
  }
  return offs;
}
`;

/** A kernel's code: the offsets, its helpers, the 1-D entry point with `offs`, then `body`. */
const code = (helpers: string, main: string, body: string): string => `${OFFSETS}
${helpers}
${main}
  let offs = inputOffsets(idx);
${body}
}`;

// ---- Gaussian KL ----------------------------------------------------------------------------

// With d = logvar1 − logvar2 the KL is ½((e^d − 1 − d) + (mean1 − mean2)²·e^(−logvar2)): both terms
// are ≥ 0, and for d near 0 (a model variance near the posterior's) the series keeps e^d − 1 − d
// accurate instead of cancelling to rounding noise or below zero.
const KL_HELPERS = /* wgsl */ `
// e^d − 1, exact near 0 (series for |d| < 0.5, error < 1e−8).
fn expm1Accurate(d: f32) -> f32 {
  if (abs(d) < 0.5) {
    return d * (1.0 + d / 2.0 * (1.0 + d / 3.0 * (1.0 + d / 4.0 * (1.0 + d / 5.0 *
      (1.0 + d / 6.0 * (1.0 + d / 7.0 * (1.0 + d / 8.0)))))));
  }
  return exp(d) - 1.0;
}
// e^d − 1 − d ≥ 0, exact near 0.
fn expm1MinusX(d: f32) -> f32 {
  if (abs(d) < 0.5) {
    return d * d * (0.5 + d / 6.0 * (1.0 + d / 4.0 * (1.0 + d / 5.0 * (1.0 + d / 6.0 *
      (1.0 + d / 7.0 * (1.0 + d / 8.0 * (1.0 + d / 9.0)))))));
  }
  return exp(d) - 1.0 - d;
}
`;

const KL_INPUTS = /* wgsl */ `
  let diff = mean1[offs.x] - mean2[offs.z];
  let lv2 = logvar2[offs.w];
  let d = logvar1[offs.y] - lv2;
  let scaledSquare = diff * diff * exp(-lv2);`;

/** out = KL(N(mean1, e^logvar1) ‖ N(mean2, e^logvar2)), nats. */
export const normalKlKernel = defineKernel({
  name: 'vlb-normal-kl',
  uniforms: VLB_UNIFORMS,
  bindings: { mean1: 'read', logvar1: 'read', mean2: 'read', logvar2: 'read', out: 'read_write' },
  workgroupSize: VLB_WORKGROUP,
  invocations: 'count',
  body: (_, k) =>
    code(
      KL_HELPERS,
      k.main,
      `${KL_INPUTS}
  out[idx] = 0.5 * (expm1MinusX(d) + scaledSquare);`,
    ),
});

/**
 * Full-size gradients: dMean (for mean1; mean2's is its negative), dLogvar1, dLogvar2. Eight
 * bindings at most, WebGPU's default per-stage limit, hence no separate dMean2.
 */
export const normalKlGradKernel = defineKernel({
  name: 'vlb-normal-kl-grad',
  uniforms: VLB_UNIFORMS,
  bindings: {
    mean1: 'read',
    logvar1: 'read',
    mean2: 'read',
    logvar2: 'read',
    dys: 'read',
    dMean: 'read_write',
    dLogvar1: 'read_write',
    dLogvar2: 'read_write',
  },
  workgroupSize: VLB_WORKGROUP,
  invocations: 'count',
  body: (_, k) =>
    code(
      KL_HELPERS,
      k.main,
      `${KL_INPUTS}
  let dy = dys[idx];
  let em1 = expm1Accurate(d);
  dMean[idx] = dy * diff * exp(-lv2);
  dLogvar1[idx] = dy * 0.5 * em1;
  dLogvar2[idx] = -dy * 0.5 * (em1 + scaledSquare);`,
    ),
});

// ---- discretised Gaussian log-likelihood ----------------------------------------------------
// Φ(z) ≈ ½(1 + tanh u), u = C·z·(1 + K·z²). With za, zb the scaled bin edges and D = ua − ub,
// log(Φ(za) − Φ(zb)) = log(sinh D / (2 cosh ua cosh ub)), regrouped so nothing large cancels
// (derivation in src/engine/reference/vlb.ts, which uses the same forms in float64).

const DGLL_HELPERS = /* wgsl */ `
const GELU_C = 0.7978845608028654;
const GELU_K = 0.044715;
const HALF_BIN = 0.00392156862745098;
const EDGE = 0.999;
const LOG_FLOOR = -27.631021115928547;

// 1 − e^(−y) for y ≥ 0, without cancellation near 0 (Taylor series there, error < 1e−8).
fn oneMinusExpNeg(y: f32) -> f32 {
  if (y < 0.5) {
    return y * (1.0 - y / 2.0 * (1.0 - y / 3.0 * (1.0 - y / 4.0 * (1.0 - y / 5.0 *
      (1.0 - y / 6.0 * (1.0 - y / 7.0 * (1.0 - y / 8.0)))))));
  }
  return 1.0 - exp(-y);
}
fn tanhAccurate(v: f32) -> f32 {
  let t = oneMinusExpNeg(2.0 * abs(v));
  return sign(v) * t / (2.0 - t);
}
fn logOnePlusExpNeg2Abs(v: f32) -> f32 { return log(1.0 + exp(-2.0 * abs(v))); }
fn logSigmoid(y: f32) -> f32 { return min(y, 0.0) - log(1.0 + exp(-abs(y))); }
fn sigmoid(y: f32) -> f32 {
  let e = exp(-abs(y));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), y >= 0.0);
}
fn geluU(z: f32) -> f32 { return GELU_C * z * (1.0 + GELU_K * z * z); }
fn geluDu(z: f32) -> f32 { return GELU_C * (1.0 + 3.0 * GELU_K * z * z); }

struct Bin { inv: f32, za: f32, zb: f32, ua: f32, ub: f32, q: f32, d: f32 }

fn makeBin(x: f32, mean: f32, logScale: f32) -> Bin {
  let centered = x - mean;
  let inv = exp(-logScale);
  let za = inv * (centered + HALF_BIN);
  let zb = inv * (centered - HALF_BIN);
  let q = za * za + za * zb + zb * zb;
  let d = GELU_C * (2.0 * HALF_BIN * inv) * (1.0 + GELU_K * q);
  return Bin(inv, za, zb, geluU(za), geluU(zb), q, d);
}

fn logBinMass(b: Bin) -> f32 {
  return -2.0 * max(b.ub, 0.0) + 2.0 * min(b.ua, 0.0) + log(oneMinusExpNeg(2.0 * b.d))
    - logOnePlusExpNeg2Abs(b.ua) - logOnePlusExpNeg2Abs(b.ub);
}

// The log-likelihood before the clamp at log(1e−12).
fn unclampedLogLikelihood(x: f32, b: Bin) -> f32 {
  if (x < -EDGE) { return logSigmoid(2.0 * b.ua); }
  if (x > EDGE) { return logSigmoid(-2.0 * b.ub); }
  return logBinMass(b);
}

// (∂/∂mean, ∂/∂logScale) of log(Φ(za) − Φ(zb)): combined by hand for wide bins (D < 1), where
// the two edges' terms nearly cancel; as positive cosh ratios for narrow ones.
fn binMassPartials(b: Bin) -> vec2<f32> {
  let dua = geluDu(b.za);
  let dub = geluDu(b.zb);
  if (b.d < 1.0) {
    let t2 = oneMinusExpNeg(2.0 * b.d);
    let w = select(1.0, b.d * (2.0 - t2) / t2, b.d > 0.0);
    let p = 1.0 + GELU_K * b.q;
    let ta = tanhAccurate(b.ua);
    let tb = tanhAccurate(b.ub);
    let dMean = -b.inv * (3.0 * GELU_K * (b.za + b.zb) * w / p - (ta * dua + tb * dub));
    let dLogScale = -((1.0 + 3.0 * GELU_K * b.q) / p * w - (ta * dua * b.za + tb * dub * b.zb));
    return vec2<f32>(dMean, dLogScale);
  }
  var ea = -2.0 * b.ua;
  var eb = 2.0 * b.ub;
  if (b.ub >= 0.0) { ea = -2.0 * b.d; eb = 0.0; } else if (b.ua <= 0.0) { ea = 0.0; eb = -2.0 * b.d; }
  let la = 1.0 + exp(-2.0 * abs(b.ua));
  let lb = 1.0 + exp(-2.0 * abs(b.ub));
  let t = oneMinusExpNeg(2.0 * b.d);
  let ga = 2.0 * exp(ea) * lb / (la * t);
  let gb = 2.0 * exp(eb) * la / (lb * t);
  return vec2<f32>(-b.inv * (ga * dua - gb * dub), -(ga * dua * b.za - gb * dub * b.zb));
}

fn logLikelihoodPartials(x: f32, b: Bin) -> vec2<f32> {
  if (unclampedLogLikelihood(x, b) <= LOG_FLOOR) { return vec2<f32>(0.0); }
  if (x < -EDGE) {
    let g = 2.0 * sigmoid(-2.0 * b.ua) * geluDu(b.za);
    return vec2<f32>(-b.inv * g, -b.za * g);
  }
  if (x > EDGE) {
    let g = -2.0 * sigmoid(2.0 * b.ub) * geluDu(b.zb);
    return vec2<f32>(-b.inv * g, -b.zb * g);
  }
  return binMassPartials(b);
}
`;

const DGLL_INPUTS = /* wgsl */ `
  let x = xs[offs.x];
  let b = makeBin(x, means[offs.y], logScales[offs.z]);`;

/** out = log-likelihood of x (8-bit data in [−1, 1]) under the discretised Gaussian, nats. */
export const discretizedGaussianLogLikelihoodKernel = defineKernel({
  name: 'vlb-dgll',
  uniforms: VLB_UNIFORMS,
  bindings: { xs: 'read', means: 'read', logScales: 'read', out: 'read_write' },
  workgroupSize: VLB_WORKGROUP,
  invocations: 'count',
  body: (_, k) =>
    code(
      DGLL_HELPERS,
      k.main,
      `${DGLL_INPUTS}
  out[idx] = max(unclampedLogLikelihood(x, b), LOG_FLOOR);`,
    ),
});

/** Full-size gradients with respect to the means and the log-scales. */
export const discretizedGaussianLogLikelihoodGradKernel = defineKernel({
  name: 'vlb-dgll-grad',
  uniforms: VLB_UNIFORMS,
  bindings: {
    xs: 'read',
    means: 'read',
    logScales: 'read',
    dys: 'read',
    dMeans: 'read_write',
    dLogScales: 'read_write',
  },
  workgroupSize: VLB_WORKGROUP,
  invocations: 'count',
  body: (_, k) =>
    code(
      DGLL_HELPERS,
      k.main,
      `${DGLL_INPUTS}
  let g = dys[idx] * logLikelihoodPartials(x, b);
  dMeans[idx] = g.x;
  dLogScales[idx] = g.y;`,
    ),
});
