// The network's forward as loops call it again and again (a sampler's steps, the bound's
// timesteps): the first call is captured and every later call with inputs of the same shapes
// replays it (src/engine/replay.ts: bit-identical, without re-running the ops' JavaScript);
// 'eager' runs every call op by op, for debugging.

import { CapturedRun, type Tensor } from '../engine/index.ts';

/** How a loop runs its repeated GPU work: captured once and replayed, or op by op. */
export type Execution = 'replay' | 'eager';

export const EXECUTIONS: readonly Execution[] = ['replay', 'eager'];

export class ReplayedForward {
  private captured: CapturedRun | null = null;

  /**
   * `forward(x, t)` must be a GPU function of its two tensors (no read back; weights read in
   * place); `frozen` are the weights, which stay unchanged while this object is used
   * (work that reads only them, such as filter packing, runs once at the capture).
   */
  constructor(
    private readonly forwardOf: (x: Tensor, t: Tensor) => Tensor,
    readonly execution: Execution = 'replay',
    private readonly frozen: readonly Tensor[] = [],
  ) {}

  /** forward(x, t): replayed when a capture of these shapes exists, else run (and captured). */
  forward(x: Tensor, t: Tensor): Tensor {
    if (this.execution === 'eager') return this.forwardOf(x, t);
    if (this.captured?.fits([x, t])) return this.captured.replay([x, t]);
    // A new shape (a last, smaller batch): the old capture gives its memory back.
    this.captured?.dispose();
    const { run, result } = CapturedRun.capture([x, t], this.forwardOf, { frozen: this.frozen });
    this.captured = run;
    return result;
  }

  dispose(): void {
    this.captured?.dispose();
    this.captured = null;
  }
}
