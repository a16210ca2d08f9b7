// Adam / AdamW over every parameter of a built model in one fused dispatch, with global-norm
// gradient clipping computed on the GPU (no readback), and an EMA of the weights. The arithmetic
// is the engine's optimiser ops (src/engine/ops/optim.ts) over the model's parameter arena.

import {
  add,
  adamUpdate,
  emaUpdate,
  gatherGradients,
  sumOfSquares,
  type ParameterArena,
  type Scalar,
  type Tensor,
} from '../../engine/index.ts';
import type { Module } from '../nn/module.ts';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: weight decay applied to the weights, not added to the gradient. */
  decoupledWeightDecay?: boolean;
  /** Clip the global L2 norm of all gradients to this value (0 or undefined: off). */
  maxGradNorm?: number;
}

function builtArena(model: Module): { arena: ParameterArena; values: GPUBuffer } {
  if (!model.arena || !model.valuesBuffer) throw new Error('optimizer: build the model (model.build(seed)) first');
  return { arena: model.arena, values: model.valuesBuffer };
}

export class Adam {
  readonly options: Required<AdamOptions>;
  /** Updates taken so far (the t of the bias corrections). */
  step = 0;
  readonly grads: GPUBuffer;
  readonly m: GPUBuffer;
  readonly v: GPUBuffer;
  private readonly arena: ParameterArena;
  private readonly values: GPUBuffer;

  constructor(
    private readonly model: Module,
    options: AdamOptions,
  ) {
    this.options = {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupledWeightDecay: false,
      maxGradNorm: 0,
      ...options,
    };
    const o = this.options;
    if (!(o.lr >= 0) || !(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1) || !(o.eps > 0)) {
      throw new Error(`Adam: invalid options ${JSON.stringify(o)} (need lr ≥ 0, 0 ≤ β < 1, eps > 0)`);
    }
    ({ arena: this.arena, values: this.values } = builtArena(model));
    this.grads = this.arena.createBuffer('adam-grads');
    this.m = this.arena.createBuffer('adam-m');
    this.v = this.arena.createBuffer('adam-v');
  }

  /** One update of every parameter from its current .grad, at learning rate `lr` (counts the step). */
  update(lr: Scalar = this.options.lr): void {
    this.step++;
    this.encodeUpdate(lr, this.step);
  }

  /**
   * The GPU work of an update at learning rate `lr` as Adam's `step`-th (counted by the caller):
   * both may be live, so a captured training step replays it at each step's rate and count.
   */
  encodeUpdate(lr: Scalar, step: Scalar): void {
    const o = this.options;
    // Flat views of the arena buffers, for this update only (disposing them frees nothing).
    // Chunks of at most one storage binding each (one chunk unless the arena is that large).
    const [weights, grads, m, v] = [this.values, this.grads, this.m, this.v].map((b) => this.arena.flatChunks(b, 'adam'));
    const flatGrads = this.arena.flatTensor(this.grads, 'adam-grads');
    let gradNormSq: Tensor | null = null;
    try {
      gatherGradients(
        flatGrads,
        [...this.model.namedParameters()].map(([, p], i) => {
          const e = this.arena.entries[i]!;
          return { offset: e.offset, size: e.size, grad: p.value.grad };
        }),
      );
      // Σ g² over all gradients (before clipping), when clipping is on.
      gradNormSq = o.maxGradNorm > 0 ? sumOfSquaresOf(grads!) : null;
      weights!.forEach((w, i) => adamUpdate(w, grads![i]!, m![i]!, v![i]!, { ...o, lr, step }, gradNormSq));
    } finally {
      [weights, grads, m, v].forEach((chunks) => chunks!.forEach((t) => t.dispose()));
      flatGrads.dispose();
      gradNormSq?.dispose();
    }
  }
}

/** Exponential moving average of a model's weights, in a buffer with the model's layout. */
/**
 * The EMA decay at optimiser step `step` (0-based): `decay`, or with warm-up
 * min(decay, (1 + step) / (10 + step)) (diffusers' EMAModel with use_ema_warmup and power 1), so
 * early EMA weights follow the model instead of staying near the random start.
 */
export function emaDecayAt(decay: number, step: number, warmup: boolean): number {
  return warmup ? Math.min(decay, (1 + step) / (10 + step)) : decay;
}

export class Ema {
  readonly buffer: GPUBuffer;
  private readonly arena: ParameterArena;
  private readonly values: GPUBuffer;

  constructor(
    model: Module,
    readonly decay: number,
  ) {
    if (!(decay >= 0 && decay <= 1)) throw new Error(`EMA: decay must be in [0, 1], got ${decay}`);
    ({ arena: this.arena, values: this.values } = builtArena(model));
    this.buffer = this.arena.createBuffer('ema');
    this.arena.copyAll(this.values, this.buffer); // starts at the current weights
  }

  /** ema ← decay·ema + (1 − decay)·weights (the plain decay by default; a live one in a captured step: emaDecayAt's). */
  update(decay: Scalar = this.decay): void {
    const ema = this.arena.flatChunks(this.buffer, 'ema');
    const weights = this.arena.flatChunks(this.values, 'ema-weights');
    ema.forEach((e, i) => emaUpdate(e, weights[i]!, decay));
    [...ema, ...weights].forEach((t) => t.dispose());
  }
}

/** Σ x² over every chunk, as a one-element tensor. */
function sumOfSquaresOf(chunks: readonly Tensor[]): Tensor {
  return chunks.slice(1).reduce((total, chunk) => {
    const part = sumOfSquares(chunk);
    const sum = add(total, part);
    total.dispose();
    part.dispose();
    return sum;
  }, sumOfSquares(chunks[0]!));
}
