// The shared harness page, reached from inside a test file over the browser's DevTools websocket.

import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, inject } from 'vitest';

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

/**
 * Runs `fn(arg)` in the harness page. `fn` is sent as source text, so it cannot use imports or
 * closures: it reaches the engine through the page's globals (`window.ddpm`, `window.ddpmHarness`),
 * and `arg` must be JSON-serialisable.
 */
export async function inPage<R>(fn: () => R | Promise<R>): Promise<R>;
export async function inPage<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
export async function inPage(fn: (arg: unknown) => unknown, arg?: unknown): Promise<unknown> {
  const page = await harnessPage();
  return page.evaluate(fn, arg);
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
