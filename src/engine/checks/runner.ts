// Gradient checks shared by the tests and `ddpm check`:
//  1. the float64 reference's vector-Jacobian product against central finite differences;
//  2. the GPU forward and every input's gradient against the float64 reference.
// The loss is L = Σ out·G for a random upstream gradient G, so every output element counts.
// A case without `vjp` is an op without gradient (e.g. the Adam update): only its GPU forward
// is checked against the reference.

import { backward } from '../backward.ts';
import { roundToHalf, SHADER_F16 } from '../dtype.ts';
import { deriveSeed, Rng } from '../random.ts';
import { refArray, type Ref } from '../reference/ndarray.ts';
import { sizeOf, type Shape } from '../shape.ts';
import { scope, tensor, type Tensor } from '../tensor.ts';
import { runtime } from '../runtime.ts';
import { featuresTurnedOn, type KernelTuning } from '../tuning.ts';

/** How an input is drawn: N(0,1), U(0.5, 2), or ±U(0.5, 2) (away from zero). */
export type Distribution = 'normal' | 'positive' | 'nonzero' | { scale: number; offset: number };

export interface InputSpec {
  name: string;
  shape: Shape;
  dist?: Distribution;
  /** No gradient is checked for this input (e.g. integer-like data). */
  noGrad?: boolean;
}

export interface CheckCase {
  name: string;
  inputs: InputSpec[];
  gpu: (xs: Tensor[]) => Tensor;
  ref: (xs: Ref[]) => Ref;
  /** Gradients of Σ ref(xs)·gy with respect to each input; absent for an op without gradient. */
  vjp?: (xs: Ref[], gy: Ref) => Ref[];
  /** Relative error allowed for GPU vs reference (default 1e-4). */
  tolerance?: number;
  /** Kernel choices overridden for the GPU run, forward and backward (e.g. a real GPU's kernels). */
  tuning?: Partial<KernelTuning>;
  /**
   * 'f16': the forward alone, on f16 inputs (the reference sees the same f16-rounded values) and
   * f16 output, as sampling runs it; needs the adapter's 'shader-f16'. Made by `withHalfCases`.
   */
  dtype?: 'f16';
}

export interface OpCheck {
  op: string;
  cases: CheckCase[];
}

export const REF_FD_TOLERANCE = 1e-6;
export const GPU_TOLERANCE = 1e-4;
/**
 * f16 cases: inputs rounded alike on both sides, arithmetic in f32, so what remains is the
 * output's rounding (≤ 2^-11 relative) and intermediate tensors stored in f16.
 */
export const F16_TOLERANCE = 2e-3;

/**
 * The op's cases followed by the forward of each (those `inHalf` keeps) again in f16, as
 * sampling runs it: same inputs and tuning, the name with ' f16', no gradients.
 */
export function withHalfCases(check: OpCheck, inHalf: (c: CheckCase) => boolean = () => true): OpCheck {
  return { ...check, cases: [...check.cases, ...check.cases.filter(inHalf).map(halfCase)] };
}

function halfCase(c: CheckCase): CheckCase {
  const { vjp: _vjp, ...forward } = c;
  return { ...forward, name: `${c.name} f16`, dtype: 'f16', tolerance: Math.max(c.tolerance ?? 0, F16_TOLERANCE) };
}

function draw(rng: Rng, spec: InputSpec): Ref {
  const n = sizeOf(spec.shape);
  const x = refArray(spec.shape);
  const dist = spec.dist ?? 'normal';
  for (let i = 0; i < n; i++) {
    if (dist === 'normal') x.data[i] = rng.normal();
    else if (dist === 'positive') x.data[i] = 0.5 + 1.5 * rng.uniform();
    else if (dist === 'nonzero') x.data[i] = (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rng.uniform());
    else x.data[i] = dist.offset + dist.scale * rng.normal();
  }
  // Round to float32 so the GPU and the reference see identical inputs.
  x.data.set(Float32Array.from(x.data));
  return x;
}

/** Inputs and upstream gradient for a case, from `seed`. */
export function drawCase(c: CheckCase, seed: number): { xs: Ref[]; gy: Ref } {
  const rng = new Rng(seed);
  const xs = c.inputs.map((s) => draw(rng, s));
  const outShape = c.ref(xs).shape;
  const gy = draw(rng, { name: 'G', shape: outShape });
  return { xs, gy };
}

/** ‖a − b‖ / max(‖b‖, tiny). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  if (!Number.isFinite(num)) return Infinity;
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

const norm = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! ** 2;
  return Math.sqrt(s);
};

/**
 * A gradient's error: relative to the reference, except where the reference is identically zero
 * (to float64 rounding; e.g. attention over one key: dq and dk). There a float32 result is
 * rounding residue with no relative error to speak of, and its size against the upstream
 * gradient's is reported instead.
 */
export function gradError(gpu: ArrayLike<number>, ref: ArrayLike<number>, upstream: ArrayLike<number>): number {
  const scale = norm(upstream);
  if (norm(ref) > 1e-12 * scale) return relError(gpu, ref);
  if (gpu.length !== ref.length) return Infinity;
  return norm(gpu) / Math.max(scale, 1e-30);
}

const dot = (a: Ref, b: Ref): number => a.data.reduce((s, v, i) => s + v * b.data[i]!, 0);

/**
 * Largest relative error between the reference VJP and central differences, over up to
 * `maxProbes` elements of each input (0 for an op without gradient: nothing to compare).
 */
export function checkReferenceGradient(c: CheckCase, seed: number, maxProbes = 48): number {
  if (!c.vjp) return 0;
  const { xs, gy } = drawCase(c, seed);
  const analytic = c.vjp(xs, gy);
  const rng = new Rng(deriveSeed(seed, 'probes'));
  let worst = 0;
  xs.forEach((x, k) => {
    if (c.inputs[k]!.noGrad) return;
    const n = x.data.length;
    const probes = n <= maxProbes ? [...Array(n).keys()] : Array.from({ length: maxProbes }, () => rng.int(n));
    const fd: number[] = [];
    const an: number[] = [];
    for (const i of probes) {
      const orig = x.data[i]!;
      const h = 1e-5; // absolute: curvature, not magnitude, sets the truncation error
      x.data[i] = orig + h;
      const plus = dot(c.ref(xs), gy);
      x.data[i] = orig - h;
      const minus = dot(c.ref(xs), gy);
      x.data[i] = orig;
      fd.push((plus - minus) / (2 * h));
      an.push(analytic[k]!.data[i]!);
    }
    worst = Math.max(worst, relError(fd, an));
  });
  return worst;
}

export interface GpuCheckResult {
  forward: number;
  grads: Record<string, number>;
  /** Why the GPU run did not happen: the case's kernels need a device feature this adapter lacks. */
  notRun?: string;
}

/** The optional device features the case's kernels need: 'shader-f16' for an f16 case, and those its tuning turns on. */
function featuresNeeded(c: CheckCase): string[] {
  const needed = featuresTurnedOn(c.tuning ?? {});
  if (c.dtype === 'f16') needed.push(SHADER_F16);
  return needed;
}

/** The features the case needs that this device lacks (none: it runs here). */
export function caseMissingFeatures(c: CheckCase, deviceFeatures: readonly string[] = runtime().report.features): string[] {
  return featuresNeeded(c).filter((f) => !deviceFeatures.includes(f));
}

/**
 * Runs the case on the GPU and compares the forward and every gradient with the reference (the
 * forward only for an op without gradient).
 */
export async function checkGpu(c: CheckCase, seed: number): Promise<GpuCheckResult> {
  const missing = caseMissingFeatures(c);
  if (missing.length > 0) return { forward: 0, grads: {}, notRun: `the adapter lacks ${missing.join(', ')}` };
  const { xs, gy } = drawCase(c, seed);
  const half = c.dtype === 'f16';
  // An f16 case's reference sees the values the GPU's f16 inputs hold.
  if (half) xs.forEach((x) => x.data.set(x.data.map(roundToHalf)));
  const expectedOut = c.ref(xs);
  const expectedGrads = c.vjp?.(xs, gy) ?? null;
  const { out, grads, inputs } = runtime().withTuning(c.tuning ?? {}, () => scope(() => {
    const inputs = xs.map((x, k) =>
      tensor(Float32Array.from(x.data), x.shape, {
        requiresGrad: expectedGrads !== null && !c.inputs[k]!.noGrad,
        name: c.inputs[k]!.name,
        dtype: half ? 'f16' : 'f32',
      }),
    );
    const out = c.gpu(inputs);
    if (expectedGrads) backward(out, tensor(Float32Array.from(gy.data), gy.shape));
    return { out, grads: inputs.map((t) => t.grad), inputs };
  }));
  try {
    if (c.dtype && out.dtype !== c.dtype) throw new Error(`check '${c.name}': the op returned ${out.dtype}, not ${c.dtype}, from ${c.dtype} inputs`);
    const result: GpuCheckResult = { forward: relError(await out.read(), expectedOut.data), grads: {} };
    for (let k = 0; k < inputs.length; k++) {
      if (!expectedGrads || c.inputs[k]!.noGrad) continue;
      const g = grads[k];
      result.grads[c.inputs[k]!.name] = g ? gradError(await g.read(), expectedGrads[k]!.data, gy.data) : Infinity;
    }
    return result;
  } finally {
    out.dispose();
    inputs.forEach((t) => t.dispose());
  }
}

/** A stable per-case seed: the run seed mixed with the case's name. */
export function caseSeed(runSeed: number, op: string, caseName: string): number {
  return deriveSeed(runSeed, op, caseName);
}
