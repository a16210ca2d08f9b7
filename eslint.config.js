// Lint: the layer order of DESIGN.md (lint/layers.js) plus a few correctness rules.
import tseslint from 'typescript-eslint';
import { layersPlugin } from './lint/layers.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'runs/', 'test-results/'] },
  {
    files: ['src/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts', 'lint/**/*.js', '*.ts', '*.js', 'bin/**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { layers: layersPlugin },
    rules: {
      'layers/layer-order': 'error',
      'no-self-compare': 'error',
      'no-unreachable': 'error',
      'no-debugger': 'error',
    },
  },
);
