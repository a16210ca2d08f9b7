// The Node host's throttle on Dawn's polling (src/cli/dawn-polling.ts), and which adapters get
// it. Dawn re-arms `setImmediate` with native callbacks; a bound function stands in for one here
// (its source text also reads "[native code]").

import { afterEach, expect, test } from 'vitest';
import { dawnPollingFor, POLL_SPIN_MS, throttleDawnPolling } from '../../src/cli/dawn-polling.ts';

let undo: (() => void) | null = null;
afterEach(() => {
  undo?.();
  undo = null;
});

/** Polls as Dawn does: each poll re-arms the next from inside itself until `ms` have passed. */
function pollFor(ms: number): Promise<number> {
  return new Promise((resolve) => {
    const start = performance.now();
    let polls = 0;
    const tick = function (this: unknown) {
      polls++;
      if (performance.now() - start < ms) setImmediate(nativeTick);
      else resolve(polls);
    };
    const nativeTick = tick.bind(null);
    setImmediate(nativeTick);
  });
}

test('a chain of native polls spins for its first milliseconds, then goes through timers', async () => {
  const spinning = await pollFor(40);
  // Count what reaches the real setImmediate under the throttle.
  const real = globalThis.setImmediate;
  let immediates = 0;
  globalThis.setImmediate = Object.assign((cb: () => void) => {
    immediates++;
    return real(cb);
  }, real) as typeof setImmediate;
  const unthrottle = throttleDawnPolling();
  undo = () => {
    unthrottle();
    globalThis.setImmediate = real;
  };
  const throttled = await pollFor(40);
  console.log(`polls in 40 ms: ${spinning} spinning, ${throttled} throttled (${immediates} immediate)`);
  // Node turns an idle event loop every few µs; throttled, the chain spins for POLL_SPIN_MS of
  // the 40 and then polls once a timer tick, at least 1 ms apart.
  expect(spinning).toBeGreaterThan(500);
  const timerPolls = throttled - immediates;
  expect(immediates).toBeGreaterThan(0);
  expect(timerPolls).toBeGreaterThan(0);
  expect(timerPolls).toBeLessThanOrEqual(40);
  // A new chain, started outside a poll, spins again: its first poll is immediate.
  const before = immediates;
  await pollFor(0);
  expect(immediates).toBe(before + 1);
  expect(POLL_SPIN_MS).toBeGreaterThan(0);
});

test('JavaScript callbacks keep the original setImmediate', async () => {
  undo = throttleDawnPolling();
  const t0 = performance.now();
  let turns = 0;
  await new Promise<void>((resolve) => {
    const next = () => (++turns < 500 ? setImmediate(next) : resolve());
    setImmediate(next);
  });
  // 500 timer ticks would take at least 500 ms.
  expect(performance.now() - t0).toBeLessThan(250);
});

test('software adapters get the throttle, GPUs Dawn\'s spinning; DDPM_DAWN_POLLING picks either, anything else is refused', () => {
  expect(dawnPollingFor(true)).toBe('throttle');
  expect(dawnPollingFor(false)).toBe('spin');
  expect(dawnPollingFor(true, '')).toBe('throttle');
  expect(dawnPollingFor(true, 'spin')).toBe('spin');
  expect(dawnPollingFor(false, 'throttle')).toBe('throttle');
  expect(() => dawnPollingFor(false, 'fast')).toThrow("DDPM_DAWN_POLLING must be throttle or spin, got 'fast'");
});
