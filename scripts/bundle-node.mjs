// Bundles the `ddpm` CLI with its Node host into dist/node/ for a GPU server that has Node but no
// npm install: `node scripts/bundle-node.mjs`, then copy the repository (or dist/node/ beside
// bench/ and models/) and run `node dist/node/ddpm.mjs bench` there. The bundle defaults to
// `--host node`; Dawn's binary for this platform is copied into dist/node/node_modules/webgpu.
// puppeteer and vite stay out (the browser host is not in the bundle's reach).

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = join(root, 'dist', 'node');
rmSync(out, { recursive: true, force: true });

await build({
  stdin: {
    contents: "import { runCli } from './src/cli/main.ts';\nawait runCli(process.argv.slice(2));\n",
    resolveDir: root,
    sourcefile: 'ddpm-node-entry.ts',
    loader: 'ts',
  },
  outdir: out,
  entryNames: 'ddpm',
  chunkNames: '[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['webgpu', 'puppeteer-core', 'vite'],
  // Some bundled packages (tfjs) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __ddpmRequire } from 'node:module'; const require = __ddpmRequire(import.meta.url); process.env.DDPM_HOST ??= 'node';",
  },
  logLevel: 'warning',
});

const arch = process.platform === 'darwin' ? 'universal' : process.arch;
const platformDir = `${process.platform}-${arch}`;
const webgpuSource = join(root, 'node_modules', 'webgpu');
const webgpuTarget = join(out, 'node_modules', 'webgpu');
for (const file of ['index.js', 'package.json', join('dist', platformDir, 'dawn.node')]) {
  mkdirSync(dirname(join(webgpuTarget, file)), { recursive: true });
  copyFileSync(join(webgpuSource, file), join(webgpuTarget, file));
}
console.log(`bundled: ${join(out, 'ddpm.mjs')} (Dawn for ${platformDir})`);
