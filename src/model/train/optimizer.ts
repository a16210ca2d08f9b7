// Adam / AdamW over every parameter of a built model in one fused dispatch, with global-norm
// gradient clipping computed on the GPU (no readback), and an EMA of the weights.

import { runtime } from '../../engine/runtime.ts';
import { square } from '../../engine/ops/elementwise.ts';
import { launchLinear } from '../../engine/ops/launch.ts';
import { sum } from '../../engine/ops/reduce.ts';
import { noGrad } from '../../engine/tape.ts';
import type { ParameterArena } from '../../engine/arena.ts';
import { scope, type Tensor } from '../../engine/tensor.ts';
import { OPTIMIZER_WORKGROUP, adamKernel, emaKernel } from '../../shaders/optimizer.ts';
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
  /** Σ g² over all gradients at the last update (before clipping), when clipping is on. */
  lastGradNormSq: Tensor | null = null;

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

  /** Copies each parameter's .grad into the flat gradient buffer (zeros where none). */
  private gatherGradients(): void {
    const d = runtime().dispatcher;
    const params = [...this.model.namedParameters()];
    params.forEach(([, p], i) => {
      const e = this.arena.entries[i]!;
      const g = p.value.grad;
      if (g) d.copy(g.storage.buffer, g.storage.offset, this.grads, e.offset * 4, e.size * 4);
      else d.clear(this.grads, e.offset * 4, e.size * 4);
    });
  }

  /** One update of every parameter from its current .grad, at learning rate `lr`. */
  update(lr = this.options.lr): void {
    const o = this.options;
    this.gatherGradients();
    this.step++;
    this.lastGradNormSq?.dispose();
    this.lastGradNormSq = null;
    if (o.maxGradNorm > 0) {
      this.lastGradNormSq = noGrad(() => scope(() => sum(square(this.arena.flatTensor(this.grads, 'adam-grads'))).keep()));
    }
    launchLinear(
      'adam',
      adamKernel,
      {
        count: this.arena.totalElements,
        decoupled: o.decoupledWeightDecay ? 1 : 0,
        lr,
        beta1: o.beta1,
        beta2: o.beta2,
        oneMinusBeta1: 1 - o.beta1,
        oneMinusBeta2: 1 - o.beta2,
        eps: o.eps,
        weightDecay: o.weightDecay,
        biasCorrection1: 1 - o.beta1 ** this.step,
        biasCorrection2: 1 - o.beta2 ** this.step,
        maxGradNorm: o.maxGradNorm,
      },
      [
        { buffer: this.values },
        { buffer: this.grads },
        { buffer: this.m },
        { buffer: this.v },
        // Read only when clipping; any buffer fills the binding otherwise.
        this.lastGradNormSq?.buffer ?? { buffer: this.grads },
      ],
      this.arena.totalElements,
      OPTIMIZER_WORKGROUP,
    );
  }
}

/** Exponential moving average of a model's weights, in a buffer with the model's layout. */
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

  update(): void {
    launchLinear(
      'ema',
      emaKernel,
      { count: this.arena.totalElements, decay: this.decay },
      [{ buffer: this.buffer }, { buffer: this.values }],
      this.arena.totalElements,
      OPTIMIZER_WORKGROUP,
    );
  }
}
