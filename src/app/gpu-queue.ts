// GPU jobs one after another: training chunks, sampling, checkpoints and the noising chain share
// one device and one command encoder, so they never interleave.

export class GpuQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `job` after every job queued before it (whether those succeeded or failed). */
  run<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job, job);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
