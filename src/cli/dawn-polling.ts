// Dawn's Node binding (npm `webgpu`) learns that GPU work finished by polling: while any GPU
// promise is pending it re-arms the global `setImmediate` from native code on every turn of the
// event loop. That busy loop keeps one core at 100% for as long as the GPU works and allocates on
// every turn (gigabytes over a training run, collected by whichever allocation comes next); on a
// software adapter the core it takes is one of the adapter's own. Here a chain of polls stays
// immediate for its first POLL_SPIN_MS (short waits keep their sub-millisecond latency) and then
// goes through `setTimeout` (one poll per timer tick, about a millisecond apart).

export type DawnPolling = 'throttle' | 'spin';
const POLLING_CHOICES: readonly DawnPolling[] = ['throttle', 'spin'];

/**
 * How Dawn polls on this adapter: throttled on a software adapter, whose threads the busy loop
 * competes with (measured, bench/README.md "Dawn's polling in Node"); Dawn's own spinning on a
 * GPU, where a timer tick would add up to a millisecond to every wait past POLL_SPIN_MS and the
 * trade has not been measured. `override` (DDPM_DAWN_POLLING) picks either for an A/B.
 */
export function dawnPollingFor(softwareAdapter: boolean, override?: string): DawnPolling {
  if (override === undefined || override === '') return softwareAdapter ? 'throttle' : 'spin';
  if (!(POLLING_CHOICES as readonly string[]).includes(override)) {
    throw new Error(`DDPM_DAWN_POLLING must be ${POLLING_CHOICES.join(' or ')}, got '${override}'`);
  }
  return override as DawnPolling;
}

/** How long a chain of polls runs on every turn of the event loop before it backs off. */
export const POLL_SPIN_MS = 2;

const isNativeFunction = (f: unknown): boolean =>
  typeof f === 'function' && Function.prototype.toString.call(f).includes('[native code]');

/**
 * Replaces the global `setImmediate` with one that backs Dawn's polls (native callbacks) off
 * after POLL_SPIN_MS of a chain; JavaScript callbacks keep the original. Returns the undo.
 */
export function throttleDawnPolling(spinMs = POLL_SPIN_MS): () => void {
  const immediate = globalThis.setImmediate;
  // A poll that re-arms from inside a poll continues its chain; any other starts a new one.
  let insidePoll = false;
  let spinUntil = 0;
  function pollingAware(callback: (...args: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate {
    if (!isNativeFunction(callback)) return immediate(callback, ...args);
    const now = performance.now();
    if (!insidePoll) spinUntil = now + spinMs;
    const poll = () => {
      insidePoll = true;
      try {
        callback(...args);
      } finally {
        insidePoll = false;
      }
    };
    if (now < spinUntil) return immediate(poll);
    // Dawn ignores the handle it gets back.
    return setTimeout(poll, 0) as unknown as NodeJS.Immediate;
  }
  globalThis.setImmediate = Object.assign(pollingAware, immediate) as typeof setImmediate;
  return () => {
    globalThis.setImmediate = immediate;
  };
}
