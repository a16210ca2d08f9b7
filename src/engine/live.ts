// Numbers read when their work is encoded. An op given a `Live` value (a training step's noise
// seed, Adam's step and rate, the EMA decay) packs what it reads now; a captured run
// (src/engine/replay.ts) reads it again before every replay and rewrites only those uniforms, so
// a replayed step draws new noise and takes a new learning rate without any op running.

export class Live {
  constructor(
    /** What it is, for messages ("the noise seed"). */
    readonly what: string,
    private readonly get: () => number,
  ) {}

  read(): number {
    return this.get();
  }

  /** A value derived from this one, read with it. */
  map(f: (value: number) => number): Live {
    return new Live(this.what, () => f(this.get()));
  }
}

/** A plain number, or a live one. */
export type Scalar = number | Live;

export function live(what: string, get: () => number): Live {
  return new Live(what, get);
}

export function valueOf(s: Scalar): number {
  return typeof s === 'number' ? s : s.read();
}

/** `f` of `s`: a number for a number, a live value for a live one. */
export function mapScalar(s: Scalar, f: (value: number) => number): Scalar {
  return typeof s === 'number' ? f(s) : s.map(f);
}

/** Whether any field of `values` is live. */
export function hasLive(values: object): boolean {
  return Object.values(values).some((v) => v instanceof Live);
}

/** `values` with every live field read now. */
export function readLive<T extends object>(values: T): { [K in keyof T]: Exclude<T[K], Live> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = v instanceof Live ? v.read() : v;
  return out as { [K in keyof T]: Exclude<T[K], Live> };
}
