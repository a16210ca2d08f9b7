// A model's plan: the layer table (name, type, output shape, parameters, FLOPs) and the
// activation elements a training step keeps alive until backward, gathered without a GPU.

import { type Shape } from '../../engine/index.ts';

export interface PlanRow {
  name: string;
  type: string;
  outShape: number[];
  params: number;
  flops: number;
  /** Depth in the module tree: blocks at 0, their layers at 1. */
  depth: number;
}

export class ModelPlan {
  readonly rows: PlanRow[] = [];
  /** Elements of every intermediate a forward pass creates (all live until backward). */
  activationElements = 0;
  private depth = 0;

  row(name: string, type: string, outShape: Shape, params: number, flops: number, activationElements: number): void {
    this.rows.push({ name, type, outShape: [...outShape], params, flops, depth: this.depth });
    this.activationElements += activationElements;
  }

  activations(elements: number): void {
    this.activationElements += elements;
  }

  /** A block row followed by its layers' rows (indented). */
  group<T>(name: string, type: string, params: number, body: () => T): T {
    const at = this.rows.length;
    this.depth++;
    const result = body();
    this.depth--;
    const inner = this.rows.slice(at);
    const flops = inner.reduce((n, r) => n + (r.depth === this.depth + 1 ? r.flops : 0), 0);
    const last = inner[inner.length - 1];
    this.rows.splice(at, 0, { name, type, outShape: last ? [...last.outShape] : [], params, flops, depth: this.depth });
    return result;
  }

  get totalFlops(): number {
    return this.rows.filter((r) => r.depth === 0).reduce((n, r) => n + r.flops, 0);
  }
}
