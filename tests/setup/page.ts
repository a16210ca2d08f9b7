// The shared harness page, reached from inside a test file over the browser's DevTools websocket.

import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, inject } from 'vitest';
import { PAGE_LIMIT_MS, tracked } from './hang-guard.ts';

let connection: Promise<{ browser: Browser; page: Page }> | null = null;

async function connect(): Promise<{ browser: Browser; page: Page }> {
  const browserError = inject('browserError');
  if (browserError) throw new Error(`the browser session failed to start: ${browserError}`);
  const browser = await puppeteer.connect({
    browserWSEndpoint: inject('browserWSEndpoint'),
    defaultViewport: null,
    // One evaluate() may run a long GPU job; the test's own timeout is the real limit.
    protocolTimeout: 60 * 60_000,
  });
  const harnessUrl = inject('harnessUrl');
  const page = (await browser.pages()).find((p) => p.url().startsWith(harnessUrl));
  if (!page) {
    await browser.disconnect();
    throw new Error(`no open page at ${harnessUrl}; did the harness page crash or navigate away?`);
  }
  return { browser, page };
}

export async function harnessPage(): Promise<Page> {
  connection ??= connect();
  try {
    return (await connection).page;
  } catch (err) {
    connection = null;
    throw err;
  }
}

/** A new tab in the shared browser (for the demo page), its navigation limit a hang guard. */
export async function newPage(): Promise<Page> {
  const page = await (await harnessPage()).browser().newPage();
  page.setDefaultTimeout(PAGE_LIMIT_MS);
  page.setDefaultNavigationTimeout(PAGE_LIMIT_MS);
  return page;
}

/**
 * Runs `fn(arg)` in the harness page. `fn` is sent as source text, so it cannot use imports or
 * closures: it reaches the engine through the page's globals (`window.ddpm`, `window.ddpmHarness`),
 * and `arg` must be JSON-serialisable.
 */
export async function inPage<R>(fn: () => R | Promise<R>): Promise<R>;
export async function inPage<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
export async function inPage(fn: (arg: unknown) => unknown, arg?: unknown): Promise<unknown> {
  const page = await harnessPage();
  // Named after the function's first line, so a test out of time says what the page was doing.
  const what = `in the harness page: ${fn.toString().split('\n')[0]!.slice(0, 100)}`;
  return tracked(what, () => page.evaluate(fn, arg));
}

/** Drops this file's connection; the browser and the page stay up for the next file. */
export async function releasePage(): Promise<void> {
  const pending = connection;
  connection = null;
  if (!pending) return;
  try {
    await (await pending).browser.disconnect();
  } catch {
    // Never connected: nothing to release.
  }
}

// Registered at import time, i.e. while the importing test file is being collected.
afterAll(releasePage);
