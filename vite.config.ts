import { defineConfig } from 'vite';

// Pages: index.html (the demo) and harness.html (what tests and the CLI drive, through the dev
// server only). The dev server may also serve Debian's datasets (/@fs/usr/share/datasets/...),
// which the pages fetch and decompress themselves.
// `npm run build` makes a static copy of the demo alone, with relative asset URLs (base './'), so
// dist/ works from any folder of any static host.
export default defineConfig({
  base: './',
  server: {
    fs: { allow: ['.', '/usr/share/datasets'] },
  },
  build: {
    target: 'es2022',
    rollupOptions: { input: { index: 'index.html' } },
  },
});
