// The page for everyone: axe-core finds no serious or critical violation (labels, names, roles,
// contrast) in any panel, every control is reachable by keyboard with a visible focus, it fits a
// 360 px phone screen without horizontal scrolling, and the page logs no errors or warnings.
// Leaves screenshots of the page at desktop and phone width in test-results/.

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { waitInPage } from '../setup/hang-guard.ts';
import { newPage } from '../setup/page.ts';
import { sidewaysOverflow } from './page-helpers.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
let page: Page;
const console_: string[] = [];

beforeAll(async () => {
  page = await newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') console_.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => console_.push(`pageerror: ${(e as Error).message}`));
  await page.setViewport({ width: 1360, height: 1000 });
  await page.goto(inject('harnessUrl').replace('harness.html', 'index.html?split=test&limit=64'));
  await waitInPage(page, () => (window as any).ddpmDemo?.engine.kind === 'ready' && (window as any).ddpmDemo.dataset.status === 'ready');
});

afterAll(async () => {
  await page?.close();
});

test('axe-core finds no serious or critical violation', async () => {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: { id: string; impact: string; nodes: { target: unknown }[] }) => `${v.impact} ${v.id}: ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
  });
  expect(violations).toEqual([]);
});

test('every control is reachable by Tab and shows its focus', async () => {
  // Walk the tab order through the shadow roots; record each focused control and its outline.
  const visited = new Map<string, string>();
  for (let i = 0; i < 120; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      let el: Element | null = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const name = `${el.tagName.toLowerCase()}[name=${el.getAttribute('name') ?? ''}]${el.getAttribute('type') ? `[type=${el.getAttribute('type')}]` : ''}`;
      return { name, focusRing: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 ? 'outline' : style.boxShadow !== 'none' ? 'shadow' : 'none' };
    });
    if (f) visited.set(f.name, f.focusRing);
  }
  const controls = await page.evaluate(() => {
    const names: string[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll('button, input, select, a[href]')) {
        const disabled = (el as HTMLButtonElement).disabled;
        const visible = (el as HTMLElement).offsetParent !== null || getComputedStyle(el).position === 'fixed';
        if (!disabled && visible) names.push(`${el.tagName.toLowerCase()}[name=${el.getAttribute('name') ?? ''}]${el.getAttribute('type') ? `[type=${el.getAttribute('type')}]` : ''}`);
      }
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    return [...new Set(names)];
  });
  const unreached = controls.filter((c) => !visited.has(c));
  expect(unreached).toEqual([]);
  const noRing = [...visited].filter(([, ring]) => ring === 'none').map(([name]) => name);
  expect(noRing).toEqual([]);
});

test('at 360 px wide nothing scrolls sideways', async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}page-desktop.png`, fullPage: true });
  await page.setViewport({ width: 360, height: 800, isMobile: true, deviceScaleFactor: 2 });
  await new Promise((r) => setTimeout(r, 500));
  const overflow = await sidewaysOverflow(page);
  await page.screenshot({ path: `${SCREENSHOTS}page-phone.png`, fullPage: true });
  expect(overflow.wide).toEqual([]);
  expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.width);
});

test('no console errors or warnings from the page', () => {
  // The dev server's own client (HMR socket) and Lit's development build speak up under `npm
  // start`; the static build's test asserts a silent console with neither.
  const devServerOnly = /\[vite\]|WebSocket connection to 'ws:|Lit is in dev mode/;
  expect(console_.filter((m) => !devServerOnly.test(m))).toEqual([]);
});
