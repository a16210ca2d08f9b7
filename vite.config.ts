import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import { BUILT_DATASET_DIR, SYSTEM_DATASET_DIR } from './src/ui/dataset-location.ts';

// Pages: index.html (the demo) and harness.html (what tests and the CLI drive, through the dev
// server only). The dev server may also serve Debian's datasets (/@fs/usr/share/datasets/...),
// which the pages fetch and decompress themselves.
// `npm run build` makes a static copy of the demo alone, with relative asset URLs (base './'), so
// dist/ works from any folder of any static host, with Fashion-MNIST copied beside the page.

/** Copies Debian's Fashion-MNIST (the four .gz files) into the build, where the page looks first. */
function copyFashionMnist(): Plugin {
  return {
    name: 'copy-fashion-mnist',
    apply: 'build',
    generateBundle() {
      let files: string[];
      try {
        files = readdirSync(SYSTEM_DATASET_DIR).filter((f) => f.endsWith('.gz'));
      } catch {
        files = [];
      }
      if (files.length !== 4) {
        this.error(`${SYSTEM_DATASET_DIR} should hold Fashion-MNIST's four .gz files (Debian's dataset-fashion-mnist package); found ${files.length}`);
      }
      for (const f of files) this.emitFile({ type: 'asset', fileName: BUILT_DATASET_DIR + f, source: readFileSync(SYSTEM_DATASET_DIR + f) });
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [copyFashionMnist()],
  server: {
    fs: { allow: ['.', '/usr/share/datasets'] },
  },
  build: {
    target: 'es2022',
    rollupOptions: { input: { index: 'index.html' } },
  },
});
