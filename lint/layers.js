// The layer order of DESIGN.md as data, and an ESLint rule that enforces it: a module may import
// only from its own layer or a layer listed under `mayImport`. Layers are matched by path prefix
// (longest first) relative to the repository root.

import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Engine modules that code outside the engine may import: its public entry points. */
export const ENGINE_ENTRIES = [
  'src/engine/index.ts', // the public API
  'src/engine/reference/index.ts', // float64 references (the reference model)
  'src/engine/checks/index.ts', // op checks (`ddpm check`)
  'src/engine/extend.ts', // for writing new ops: defineKernel, launch, record
];

/** Lowest first. `mayImport` lists the other layers a layer's modules may import. */
export const LAYERS = [
  { name: 'shaders', paths: ['src/shaders/'], mayImport: [] },
  {
    name: 'engine-base',
    paths: ['src/engine/device.ts', 'src/engine/buffer-pool.ts', 'src/engine/staging-pool.ts', 'src/engine/shape.ts', 'src/engine/collapse.ts', 'src/engine/random.ts', 'src/engine/safetensors.ts', 'src/engine/tuning.ts', 'src/engine/dtype.ts', 'src/engine/live.ts'],
    mayImport: ['shaders'],
  },
  { name: 'dispatch', paths: ['src/engine/dispatch.ts', 'src/engine/kernel-launch.ts'], mayImport: ['shaders', 'engine-base'] },
  { name: 'runtime', paths: ['src/engine/runtime.ts'], mayImport: ['shaders', 'engine-base', 'dispatch'] },
  { name: 'tensor', paths: ['src/engine/tensor.ts', 'src/engine/arena.ts'], mayImport: ['shaders', 'engine-base', 'dispatch', 'runtime'] },
  { name: 'tape', paths: ['src/engine/tape.ts'], mayImport: ['engine-base', 'tensor'] },
  // Capture and replay of recorded dispatches: tensors and the dispatcher, no ops.
  { name: 'replay', paths: ['src/engine/replay.ts', 'src/engine/memory-plan.ts'], mayImport: ['engine-base', 'dispatch', 'runtime', 'tensor'] },
  { name: 'ops', paths: ['src/engine/ops/'], mayImport: ['shaders', 'engine-base', 'dispatch', 'runtime', 'tensor', 'tape'] },
  { name: 'autodiff', paths: ['src/engine/backward.ts'], mayImport: ['engine-base', 'tensor', 'tape', 'ops'] },
  // The float64 oracle is independent of what it checks: no ops, no tensors.
  { name: 'reference', paths: ['src/engine/reference/'], mayImport: ['shaders', 'engine-base'] },
  { name: 'checks', paths: ['src/engine/checks/'], mayImport: ['shaders', 'engine-base', 'dispatch', 'runtime', 'tensor', 'tape', 'ops', 'autodiff', 'reference'] },
  { name: 'engine-api', paths: ['src/engine/index.ts', 'src/engine/extend.ts'], mayImport: ['shaders', 'engine-base', 'dispatch', 'runtime', 'tensor', 'tape', 'replay', 'ops', 'autodiff', 'reference', 'checks'] },
  { name: 'model', paths: ['src/model/'], mayImport: ['engine'] },
  { name: 'bench', paths: ['src/bench/'], mayImport: ['engine', 'model'] },
  { name: 'app', paths: ['src/app/'], mayImport: ['engine', 'model'] },
  { name: 'ui', paths: ['src/ui/'], mayImport: ['app'] },
  { name: 'harness', paths: ['src/harness/'], mayImport: ['engine', 'model', 'bench', 'app'] },
  { name: 'cli', paths: ['src/cli/'], mayImport: ['engine', 'model', 'app', 'harness', 'bench'] },
];

/** 'engine' in `mayImport` means the engine's public entry points, nothing deeper. */
const ENGINE_LAYERS = new Set(['engine-base', 'dispatch', 'runtime', 'tensor', 'tape', 'replay', 'ops', 'autodiff', 'reference', 'checks', 'engine-api']);

const byPrefix = LAYERS.flatMap((layer) => layer.paths.map((p) => ({ prefix: p, layer }))).sort(
  (a, b) => b.prefix.length - a.prefix.length,
);

export function layerOf(repoPath) {
  return byPrefix.find(({ prefix }) => (prefix.endsWith('/') ? repoPath.startsWith(prefix) : repoPath === prefix))?.layer;
}

/** Why `from` may not import `to` (repository-relative paths), or null when it may. */
export function violation(from, to) {
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a || !b || a === b) return null;
  if (a.mayImport.includes(b.name)) return null;
  if (ENGINE_LAYERS.has(b.name) && a.mayImport.includes('engine')) {
    if (ENGINE_ENTRIES.includes(to)) return null;
    return `${a.name} code imports the engine only through ${ENGINE_ENTRIES.join(', ')}, not ${to}`;
  }
  return `layer '${a.name}' may not import layer '${b.name}' (${to}); it may import: ${a.mayImport.join(', ') || 'nothing'}`;
}

export const layersPlugin = {
  rules: {
    'layer-order': {
      meta: { type: 'problem', docs: { description: 'imports follow the layer order of DESIGN.md' }, schema: [] },
      create(context) {
        const from = relative(ROOT, context.filename).split('\\').join('/');
        const check = (node) => {
          const source = node.source?.value;
          if (typeof source !== 'string' || !source.startsWith('.')) return;
          const to = relative(ROOT, resolve(dirname(context.filename), source)).split('\\').join('/');
          const why = violation(from, to);
          if (why) context.report({ node, message: why });
        };
        return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
      },
    },
  },
};
