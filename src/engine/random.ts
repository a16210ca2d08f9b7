// Seeded counter-based random numbers on the CPU: value i of stream `seed` is a hash of
// (seed, i), so any draw can be repeated and the state is two integers.

/** A 32-bit avalanche hash (lowbias32 by Chris Wellons). */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export interface RngState {
  seed: number;
  counter: number;
}

export class Rng {
  seed: number;
  counter: number;

  constructor(seed: number, counter = 0) {
    this.seed = seed >>> 0;
    this.counter = counter;
  }

  /** A uniform 32-bit integer. */
  nextU32(): number {
    const c = this.counter++;
    return hash32(hash32(this.seed ^ 0x9e3779b9) ^ hash32(c) ^ Math.floor(c / 4294967296));
  }

  /** Uniform in (0, 1) on a 2^-24 grid (exact in f32, as on the GPU), never 0 or 1. */
  uniform(): number {
    return ((this.nextU32() >>> 8) + 0.5) / 16777216;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  normals(n: number, std = 1, mean = 0): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  uniforms(n: number, low = 0, high = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * this.uniform();
    return out;
  }

  state(): RngState {
    return { seed: this.seed, counter: this.counter };
  }
}
