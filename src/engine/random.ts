// Seeded counter-based random numbers on the CPU: value i of stream `seed` is a hash of
// (seed, i), so any draw can be repeated and the state is two integers. The GPU twin is
// src/shaders/random.ts (same hash, same streams).

import { STREAM_GOLDEN, hash32 } from '../shaders/random.ts';

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
    return hash32((hash32((this.seed ^ STREAM_GOLDEN) >>> 0) ^ hash32(c) ^ Math.floor(c / 4294967296)) >>> 0);
  }

  /** Uniform in (0, 1) from the top 24 bits (as on the GPU, up to f32 rounding), never 0 or 1. */
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

/** One part of a seed's derivation path: a non-negative integer (a step, an index) or a name. */
export type SeedPart = number | string;

/** Mixes one 32-bit word into the running hash; for a fixed state, distinct words give distinct states. */
function absorb(h: number, word: number): number {
  return hash32((Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ hash32(word >>> 0)) >>> 0);
}

/**
 * The seed of an independent random stream for `path` under `seed`, e.g.
 * `deriveSeed(seed, 'noise', step)`: a hash chain over the path, built on the project's one hash
 * (hash32). Distinct paths give unrelated seeds, the order of the parts matters, and derivations
 * nest (`deriveSeed(deriveSeed(s, 'dropout', step), 'layer', k)`) without the streams of one
 * level lining up with another's. Every derived seed in the project comes from here.
 */
export function deriveSeed(seed: number, ...path: SeedPart[]): number {
  let h = hash32((seed ^ STREAM_GOLDEN) >>> 0);
  for (const part of path) {
    if (typeof part === 'string') {
      h = absorb(absorb(h, 1), part.length);
      for (let i = 0; i < part.length; i++) h = absorb(h, part.charCodeAt(i));
    } else {
      if (!Number.isSafeInteger(part) || part < 0) {
        throw new Error(`deriveSeed: path part ${part} must be a non-negative integer or a string`);
      }
      h = absorb(absorb(absorb(h, 0), part % 4294967296), Math.floor(part / 4294967296));
    }
  }
  return h;
}
