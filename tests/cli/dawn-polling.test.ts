// The Node host's throttle on Dawn's polling (src/cli/dawn-polling.ts). Dawn re-arms
// `setImmediate` with native callbacks; a bound function stands in for one here (its source
// text also reads "[native code]").

import { afterEach, expect, test } from 'vitest';
import { POLL_SPIN_MS, throttleDawnPolling } from '../../src/cli/dawn-polling.ts';

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

test('a chain of native polls spins for its first milliseconds, then polls about once a millisecond', async () => {
  const spinning = await pollFor(40);
  undo = throttleDawnPolling();
  const throttled = await pollFor(40);
  console.log(`polls in 40 ms: ${spinning} spinning, ${throttled} throttled`);
  // Node turns its event loop every few µs when idle: thousands of polls. Throttled: the spin
  // window's share of those, then one per timer tick (≥ 1 ms).
  expect(spinning).toBeGreaterThan(2000);
  expect(throttled).toBeLessThan((spinning * POLL_SPIN_MS) / 40 + 60);
  // A new chain spins again: a short wait still ends within the spin window.
  const t0 = performance.now();
  await pollFor(1);
  expect(performance.now() - t0).toBeLessThan(POLL_SPIN_MS + 1);
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
