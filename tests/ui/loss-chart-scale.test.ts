// The loss chart takes 100k points: 100,000 loss records (and their moving average) reach uPlot
// and are drawn. The time per update is printed, not asserted (measured 65-75 ms here; README).

import type { Page } from 'puppeteer-core';
import { afterAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';

let page: Page | null = null;

afterAll(async () => {
  await page?.close();
});

test('a 100k-point loss chart reaches uPlot and is drawn', async () => {
  page = await newPage();
  await page.goto(inject('harnessUrl').replace('harness.html', 'index.html?autoload=0'));
  await waitInPage(page, () => document.querySelector('ddpm-app')?.shadowRoot?.querySelector('train-panel')?.shadowRoot?.querySelector('loss-chart'));
  const times = await page.evaluate(async () => {
    const chart = document.querySelector('ddpm-app')!.shadowRoot!.querySelector('train-panel')!.shadowRoot!.querySelector('loss-chart') as any;
    const records = Array.from({ length: 100_000 }, (_, step) => ({ step, loss: 0.05 + 0.5 / (1 + step / 500) + 0.02 * Math.sin(step) }));
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const out: number[] = [];
    for (let i = 0; i < 3; i++) {
      records.push({ step: records.length, loss: 0.05 });
      const t0 = performance.now();
      chart.records = records;
      chart.count = records.length;
      await chart.updateComplete;
      await frame();
      const lineChart = chart.shadowRoot.querySelector('line-chart');
      await lineChart.updateComplete;
      await frame();
      out.push(performance.now() - t0);
    }
    const canvas = chart.shadowRoot.querySelector('line-chart').shadowRoot.querySelector('canvas') as HTMLCanvasElement;
    const plotted = chart.shadowRoot.querySelector('line-chart').plot.data[0].length as number;
    return { out, width: canvas.width, plotted };
  });
  console.log(`100k-point loss chart: ${times.out.map((t) => t.toFixed(0)).join(', ')} ms per update`);
  expect(times.width).toBeGreaterThan(100);
  expect(times.plotted).toBe(100_003);
});
