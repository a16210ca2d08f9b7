import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import { CLASSIFIER_FILE } from './src/app/site-files.ts';
import { BUILT_DATASET_DIR, SYSTEM_DATASET_DIR } from './src/ui/dataset-location.ts';

// Pages: index.html (the demo) and harness.html (what tests and the CLI drive, through the dev
// server only). The dev server may also serve Debian's datasets (/@fs/usr/share/datasets/...),
// which the pages fetch and decompress themselves.
// `npm run build` makes a static copy of the demo alone, with relative asset URLs (base './'), so
// dist/ works from any folder of any static host, with Fashion-MNIST and the quality classifier
// copied beside the page.

/**
 * Copies Debian's Fashion-MNIST (the four .gz files) into the build, where the page looks first,
 * and the quality metric's classifier.
 */
function copySiteData(): Plugin {
  return {
    name: 'copy-site-data',
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
      this.emitFile({ type: 'asset', fileName: CLASSIFIER_FILE, source: readFileSync(CLASSIFIER_FILE) });
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [copySiteData()],
  server: {
    fs: { allow: ['.', '/usr/share/datasets'] },
  },
  build: {
    target: 'es2022',
    rollupOptions: { input: { index: 'index.html' } },
  },
});
