import { defineConfig } from 'vite';

// Pages: index.html (the demo) and harness.html (what tests and the CLI drive).
// The dev server may also serve Debian's datasets (/@fs/usr/share/datasets/...), which the
// training page fetches and decompresses itself.
export default defineConfig({
  server: {
    fs: { allow: ['.', '/usr/share/datasets'] },
  },
  build: {
    target: 'es2022',
    rollupOptions: { input: { index: 'index.html' } },
  },
});
