// The Fréchet distance between two Gaussians fitted to feature vectors (the "FD" of FID):
//   FD = |μ₁ − μ₂|² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁ Σ₂)^½),
// in float64 on the CPU. tr((Σ₁Σ₂)^½) = tr((√Σ₁ Σ₂ √Σ₁)^½), and √Σ₁ Σ₂ √Σ₁ is symmetric positive
// semi-definite, so both square roots come from a symmetric eigendecomposition (Jacobi), with no
// complex arithmetic and no sqrtm of a non-symmetric matrix.

/** Mean and covariance (unbiased, n − 1) of `n` feature rows of length `dim`. */
export interface FeatureStats {
  dim: number;
  count: number;
  mean: Float64Array;
  /** dim × dim, row-major. */
  cov: Float64Array;
}

export function featureStats(features: ArrayLike<number>, count: number, dim: number): FeatureStats {
  if (count < 2) throw new Error(`featureStats: need at least 2 feature rows, got ${count}`);
  if (features.length !== count * dim) {
    throw new Error(`featureStats: ${features.length} values is not ${count} rows of ${dim}`);
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) mean[d]! += features[i * dim + d]!;
  for (let d = 0; d < dim; d++) mean[d]! /= count;
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) centred[d] = features[i * dim + d]! - mean[d]!;
    for (let a = 0; a < dim; a++) {
      const ca = centred[a]!;
      for (let b = a; b < dim; b++) cov[a * dim + b]! += ca * centred[b]!;
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b]! / (count - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { dim, count, mean, cov };
}

/**
 * Eigenvalues and eigenvectors of a symmetric n × n matrix (cyclic Jacobi rotations).
 * Returns `values` and `vectors` (column k of the row-major n × n matrix is eigenvector k).
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let p = 0; p < n; p++) {
      for (let q = 0; q < n; q++) {
        const x = a[p * n + q]! * a[p * n + q]!;
        total += x;
        if (p !== q) off += x;
      }
    }
    if (off <= 1e-30 * Math.max(total, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q of A
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q of A
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** √M of a symmetric positive semi-definite matrix (negative rounding-level eigenvalues → 0). */
export function symmetricSqrt(matrix: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const root = Math.sqrt(Math.max(0, values[k]!));
    if (root === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k]! * root;
      for (let j = 0; j < n; j++) out[i * n + j]! += vik * vectors[j * n + k]!;
    }
  }
  return out;
}

function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return out;
}

/** The Fréchet distance between the Gaussians of two feature sets. */
export function frechetDistance(x: FeatureStats, y: FeatureStats): number {
  if (x.dim !== y.dim) throw new Error(`frechetDistance: feature sizes differ (${x.dim} vs ${y.dim})`);
  const n = x.dim;
  let meanTerm = 0;
  for (let d = 0; d < n; d++) meanTerm += (x.mean[d]! - y.mean[d]!) ** 2;
  let traces = 0;
  for (let d = 0; d < n; d++) traces += x.cov[d * n + d]! + y.cov[d * n + d]!;
  const rootX = symmetricSqrt(x.cov, n);
  const inner = matmulSquare(matmulSquare(rootX, y.cov, n), rootX, n);
  // Symmetrise away rounding before the second root.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const m = 0.5 * (inner[i * n + j]! + inner[j * n + i]!);
      inner[i * n + j] = m;
      inner[j * n + i] = m;
    }
  }
  const { values } = symmetricEigen(inner, n);
  let crossTrace = 0;
  for (const v of values) crossTrace += Math.sqrt(Math.max(0, v));
  return Math.max(0, meanTerm + traces - 2 * crossTrace);
}

/**
 * Where `samples` sit between real data (0) and noise (1):
 * (FD_samples − FD_real) / (FD_noise − FD_real).
 */
export function normalisedFrechet(fdSamples: number, fdReal: number, fdNoise: number): number {
  const span = fdNoise - fdReal;
  if (!(span > 0)) throw new Error(`normalisedFrechet: noise FD ${fdNoise} is not above the real floor ${fdReal}`);
  return (fdSamples - fdReal) / span;
}
