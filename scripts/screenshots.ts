// Screenshots of each view of the demo page at desktop and phone width, for docs/ and the README:
// `npx tsx scripts/screenshots.ts` (headless Chromium on this machine's WebGPU). It trains the
// quick-run model for a few dozen steps on Fashion-MNIST's test split, samples, computes the bound
// and runs the op checks, then photographs every panel into docs/screens/.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { startBrowserSession } from '../src/cli/browser.ts';
import { REPO_ROOT } from '../src/cli/repo-root.ts';

const OUT = join(REPO_ROOT, 'docs', 'screens');
const PANELS = ['schedule-view', 'noising-chain', 'train-panel', 'sampler-view', 'likelihood-view', 'op-checks'] as const;
const WIDTHS = { desktop: 1360, phone: 360 } as const;

const wait = (page: Page, fn: string, timeout = 600_000) => page.waitForFunction(fn, { timeout, polling: 250 });

async function setField(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(`ddpm-app >>> ${selector}`, (e, v) => {
    (e as HTMLInputElement).value = v as string;
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

async function click(page: Page, selector: string): Promise<void> {
  await (await page.waitForSelector(`ddpm-app >>> ${selector}`))!.click();
}

const session = await startBrowserSession();
try {
  mkdirSync(OUT, { recursive: true });
  const page = await session.browser.newPage();
  await page.setViewport({ width: WIDTHS.desktop, height: 1000 });
  await page.goto(session.url.replace('harness.html', 'index.html?split=test&limit=2000'));
  await wait(page, `window.ddpmDemo?.engine.kind === 'ready' && window.ddpmDemo.dataset.status === 'ready'`, 120_000);
  await page.evaluate(() => (window as any).ddpmDemo.discardAutosave());
  await setField(page, 'train-panel >>> input[name=targetSteps]', '60');
  await setField(page, 'train-panel >>> input[name=qualityEvery]', '30');
  await click(page, 'train-panel >>> button[name=start]');
  await wait(page, `window.ddpmDemo.training.phase === 'finished' && !window.ddpmDemo.quality.measuring`);
  await setField(page, 'sampler-view >>> select[name=sampler]', 'dpm-solver');
  await setField(page, 'sampler-view >>> input[name=steps]', '10');
  await click(page, 'sampler-view >>> button[name=sample]');
  await wait(page, 'window.ddpmDemo.sampling.result !== null');
  await setField(page, 'likelihood-view >>> input[name=images]', '16');
  await setField(page, 'likelihood-view >>> input[name=terms]', '20');
  await click(page, 'likelihood-view >>> button[name=compute-bound]');
  await wait(page, 'window.ddpmDemo.bound.report !== null');
  await click(page, 'op-checks >>> button[name=run-checks]');
  await wait(page, `!window.ddpmDemo.checks.running && window.ddpmDemo.checks.rows.length === window.ddpmDemo.checks.total`);
  for (const [kind, width] of Object.entries(WIDTHS)) {
    await page.setViewport({ width, height: 900, deviceScaleFactor: kind === 'phone' ? 2 : 1 });
    await new Promise((r) => setTimeout(r, 800));
    await page.screenshot({ path: join(OUT, `page-${kind}.png`), fullPage: kind === 'desktop' });
    for (const panel of PANELS) {
      const handle = await page.$(`ddpm-app >>> ${panel}`);
      await handle!.screenshot({ path: join(OUT, `${panel}-${kind}.png`) });
    }
    process.stderr.write(`${kind}: ${PANELS.length + 1} screenshots in ${OUT}\n`);
  }
} finally {
  await session.close();
}
