// A module's parameters as f16 copies, for sampling in half precision: made once per sampling
// run from the weights the module holds then (EMA weights included), disposed after it.

import { cast, noGrad, runtime, SHADER_F16, type Tensor } from '../../engine/index.ts';
import type { Module, Parameter } from './module.ts';

export class HalfWeights {
  private constructor(private readonly copies: Map<Parameter, Tensor>) {}

  /** f16 copies of every parameter of `module`; refused where the adapter lacks 'shader-f16'. */
  static castFrom(module: Module): HalfWeights {
    if (!runtime().hasF16) {
      throw new Error(`sampling in f16 needs the adapter feature '${SHADER_F16}', which this adapter lacks: sample in f32`);
    }
    return noGrad(() => new HalfWeights(new Map(module.parameters().map((p) => [p, cast(p.value, 'f16').keep()]))));
  }

  /** The f16 copy of `p`. */
  get(p: Parameter): Tensor {
    const t = this.copies.get(p);
    if (!t) throw new Error(`HalfWeights: a parameter ${JSON.stringify(p.shape)} of another module`);
    return t;
  }

  dispose(): void {
    for (const t of this.copies.values()) t.dispose();
    this.copies.clear();
  }
}
