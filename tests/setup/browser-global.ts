// Starts the one browser session shared by every test file (see tests/setup/page.ts).

import type { TestProject } from 'vitest/node';
import { startBrowserSession, type BrowserSession } from '../../src/cli/browser.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    browserWSEndpoint: string;
    harnessUrl: string;
    /** Why the browser session could not start; empty when it did. */
    browserError: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const verbose = process.env.DDPM_VERBOSE === '1';
  let session: BrowserSession;
  try {
    session = await startBrowserSession({
      log: (line) => {
        // Uncaught page errors always show; console chatter only with DDPM_VERBOSE=1.
        if (verbose || line.startsWith('[page uncaught]')) process.stderr.write(`${line}\n`);
      },
    });
  } catch (err) {
    // Don't abort the run: tests that need no browser still run, and every test that does fails
    // with this message (see harnessPage()), so the summary line counts them.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`browser session failed to start: ${message}\n`);
    project.provide('browserWSEndpoint', '');
    project.provide('harnessUrl', '');
    project.provide('browserError', message);
    return undefined;
  }
  project.provide('browserWSEndpoint', session.browser.wsEndpoint());
  project.provide('harnessUrl', session.url);
  project.provide('browserError', '');
  // In watch mode the page would otherwise keep running the engine code it loaded first.
  project.onTestsRerun(() => session.reload());
  return () => session.close();
}
