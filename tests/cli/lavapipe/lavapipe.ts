// Running the CLI and the tiny U-Net script on lavapipe (Mesa's Vulkan on the CPU, unpacked by
// scripts/setup.sh into .cache/lavapipe), for the default suite (a real GPU's kernel shapes, and
// only the kernel variants SwiftShader does not run) and the extended one (every case, and the
// software kernel shapes too: tests/extended/).

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode } from 'fast-png';
import { expect } from 'vitest';
import { runDdpm, runProcess, type ProcessResult } from '../../setup/hang-guard.ts';

/** Written by scripts/setup.sh. */
export const LAVAPIPE_ICD = resolve('.cache/lavapipe/lvp_icd.json');
const ON_LAVAPIPE = { VK_ICD_FILENAMES: LAVAPIPE_ICD, DDPM_SWIFTSHADER: '0' };

export type Shapes = 'software' | 'gpu';
const tuningFor = (shapes: Shapes) => ({ DDPM_TUNING: JSON.stringify({ shapesFor: shapes }) });

/** `ddpm --host node …args` on lavapipe. */
export function ddpmOnLavapipe(args: readonly string[], options: { env?: Record<string, string>; limitMs: number }): Promise<ProcessResult> {
  return runDdpm(['--host', 'node', ...args], { ...options, env: { ...ON_LAVAPIPE, ...options.env }, what: `ddpm ${args.join(' ')} on lavapipe` });
}

export interface CheckRowJson {
  op: string;
  case: string;
  pass: boolean;
}

/** `ddpm check` on lavapipe with `shapes` kernel shapes and `extra` flags; resolves with its rows. */
export async function checksOnLavapipe(dir: string, shapes: Shapes, extra: readonly string[], limitMs: number): Promise<CheckRowJson[]> {
  const json = join(dir, `checks-${shapes}-${extra.join('-') || 'all'}.json`);
  const r = await ddpmOnLavapipe(['check', ...extra, '--json', json], { env: tuningFor(shapes), limitMs });
  expect(r.stderr).toMatch(/engine ready: Node v\d+.*llvmpipe/);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(json, 'utf8')) as CheckRowJson[];
}

export interface TinyUnetResult {
  adapter: string;
  matmulTiled: boolean;
  f32: number;
  f16: number;
  f16Dtype: string;
}

/** The fixture's diffusers U-Net forward in f32 and f16 on lavapipe, against PyTorch's output. */
export async function tinyUnetOnLavapipe(shapes: Shapes, limitMs: number): Promise<TinyUnetResult> {
  const r = await runProcess(`the tiny U-Net in f32 and f16 on lavapipe (${shapes} shapes)`, process.execPath, ['--import', 'tsx', 'tests/cli/lavapipe/tiny-unet-f16.ts'], {
    env: { ...ON_LAVAPIPE, SHAPES_FOR: shapes },
    limitMs,
  });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TinyUnetResult;
}

/** The assertions of the tiny U-Net against PyTorch, printing the errors. */
export function expectTinyUnetMatches(result: TinyUnetResult, shapes: Shapes): void {
  console.log(`tiny U-Net vs PyTorch on lavapipe, ${shapes} shapes: f32 ${result.f32.toExponential(2)}, f16 ${result.f16.toExponential(2)}`);
  expect(result.adapter).toMatch(/llvmpipe/);
  expect(result.matmulTiled).toBe(shapes === 'gpu');
  expect(result.f32).toBeLessThan(1e-4);
  expect(result.f16).toBeLessThan(3e-3);
  // It did run in half precision: f16 storage rounds every activation by up to 2^-11.
  expect(result.f16).toBeGreaterThan(1e-5);
  expect(result.f16Dtype).toBe('f32');
}

const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};

/**
 * Sampling in f16 against sampling in f32 (DDIM, 10 steps, the tiny U-Net), f32 with `shapes.f32`
 * kernel shapes and f16 with each of `shapes.f16`: the same seed draws the same grid within 2 grey
 * levels on average, another seed a different one.
 */
export async function expectHalfSamplingMatches(dir: string, shapes: { f32: Shapes; f16: readonly Shapes[] }, limitMs: number): Promise<void> {
  const grid = async (precision: string, seed: number, kernelShapes: Shapes) => {
    const out = join(dir, `grid-${kernelShapes}-${precision}-${seed}.png`);
    const r = await ddpmOnLavapipe(
      ['sample', '--model', 'tests/fixtures/torch-reference/tiny_unet', '--n', '16', '--sampler', 'ddim', '--steps', '10', '--seed', String(seed), '--precision', precision, '--out', out],
      { env: tuningFor(kernelShapes), limitMs },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`network in ${precision}`));
    return decode(readFileSync(out)).data;
  };
  const f32 = await grid('f32', 3, shapes.f32);
  for (const f16Shapes of shapes.f16) {
    const halfDiff = meanAbsDiff(f32, await grid('f16', 3, f16Shapes));
    console.log(`grid pixels, mean |f32 (${shapes.f32} shapes) − f16 (${f16Shapes} shapes)| ${halfDiff.toFixed(2)} levels`);
    expect(halfDiff).toBeLessThan(2);
  }
  const seedDiff = meanAbsDiff(f32, await grid('f32', 4, shapes.f32));
  console.log(`grid pixels, another seed: ${seedDiff.toFixed(1)} levels`);
  expect(seedDiff).toBeGreaterThan(20);
}
