import { expect, test } from 'vitest';
import { inPage } from '../setup/page.ts';

interface Ping {
  hasAdapter: boolean;
  info: { vendor: string; architecture: string } | null;
}

test('the harness page has a WebGPU adapter', async () => {
  const ping = await inPage((): Promise<Ping> => (window as any).ddpmHarness.ping());
  expect(ping.hasAdapter).toBe(true);
});
