// The engine in this Node process: Dawn's WebGPU from the `webgpu` npm package (Vulkan, Metal or
// D3D12; on a machine without a GPU, Vulkan's SwiftShader), with the same session and drivers the
// harness page offers, so `ddpm train|sample|eval|check|bench --host node` run on a GPU server with
// no browser. Datasets are read from disk where the page would fetch them from the dev server.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { dawnPollingFor, throttleDawnPolling } from './dawn-polling.ts';
import type { Host } from './host.ts';
import type { CheckRequest } from '../app/index.ts';

/** Chromium's SwiftShader Vulkan driver, used when DDPM_SWIFTSHADER is not 0 (as the browser host does). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Serves the dev server's `/@fs/<absolute path>` URLs (the CLI's dataset URLs) from disk. */
function installFileFetch(): void {
  const networkFetch = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('/@fs/')) return networkFetch(input, init);
    const path = decodeURIComponent(url.slice('/@fs'.length));
    try {
      return new Response(await readFile(path), { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    } catch {
      return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    }
  };
}

export async function startNodeHost(): Promise<Host> {
  if (process.env.DDPM_SWIFTSHADER !== '0' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    // Read by the Vulkan loader when Dawn starts: pins the software adapter, as the browser host does.
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    throw new Error(`--host node needs the optional npm package 'webgpu' (Dawn for Node): npm install webgpu (${(e as Error).message})`);
  }
  Object.assign(globalThis, webgpu.globals);
  // Dawn rounds timestamps to 2^16 ns unless told not to: the bench's per-pass GPU times need them exact.
  const gpu = webgpu.create(['disable-dawn-features=timestamp_quantization']);
  // Node 20 has no navigator; jax-js reads its userAgent (a Firefox check) when it starts, the
  // engine's tuning the CPU count (a software adapter's parallelism).
  if (typeof navigator === 'undefined') {
    const hostNavigator = { gpu, userAgent: `Node.js/${process.version}`, hardwareConcurrency: availableParallelism() };
    Object.defineProperty(globalThis, 'navigator', { value: hostNavigator, configurable: true });
  }
  else Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
  if (!(await gpu.requestAdapter())) {
    throw new Error(
      'Dawn found no WebGPU adapter: on Linux it needs the Vulkan loader (libvulkan1) and a driver for the GPU ' +
        '(an ICD; VK_ICD_FILENAMES may point at its json)',
    );
  }
  installFileFetch();
  // Image folders are decoded by the browser's image decoders, which Node lacks.
  (globalThis as { createImageBitmap?: unknown }).createImageBitmap = () => {
    throw new Error('image-file datasets are decoded by a browser: use --host browser for --dataset DIR');
  };

  const { createPageSession } = await import('../harness/session.ts');
  const { runBench } = await import('../bench/run.ts');
  const { runOpChecks } = await import('../app/index.ts');
  const engine = await import('../engine/index.ts');
  const session = (await createPageSession()) as unknown as Record<string, (...args: unknown[]) => unknown>;
  const harness: Record<string, (...args: never[]) => unknown> = {
    runChecks: (request: CheckRequest = {}) => runOpChecks({ ...request, progress: (line) => process.stderr.write(`${line}\n`) }),
    runBench: (request?: { only?: string[]; peers?: string[] }) => runBench(request as Parameters<typeof runBench>[0]),
    report: () => engine.runtime().report,
    setTuning: (overrides: Record<string, never>) => engine.runtime().setTuning(overrides),
  };
  const report = engine.runtime().report;
  if (dawnPollingFor(engine.isSoftwareAdapter(report), process.env.DDPM_DAWN_POLLING) === 'throttle') throttleDawnPolling();
  return {
    kind: 'node',
    where: `Node ${process.version}, Dawn: ${report.adapter.vendor} ${report.adapter.architecture} ${report.adapter.description}`.trim(),
    async callSession(method, args) {
      const fn = session[method];
      if (typeof fn !== 'function') throw new Error(`the session has no ${method}()`);
      return fn(...args);
    },
    async callHarness(method, args = []) {
      const fn = harness[method] as ((...a: unknown[]) => unknown) | undefined;
      if (!fn) throw new Error(`${method}() is not offered by the Node host`);
      return fn(...args);
    },
    async close() {
      engine.runtime().device.destroy();
    },
  };
}
