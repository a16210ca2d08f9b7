// PyTorch reference values shared by the op tests (tests/fixtures/torch-reference/).

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { readSafetensors, type SafetensorsEntry } from '../../src/engine/safetensors.ts';
import { inPage } from './page.ts';

export type Arr = { shape: number[]; data: number[] };

const FIXTURES = new URL('../fixtures/torch-reference/', import.meta.url);
const cache = new Map<string, Map<string, SafetensorsEntry>>();

/** A tensor of a fixture file (default ops.safetensors) as plain arrays (JSON-ready for the page). */
export function fixtureTensor(name: string, file = 'ops.safetensors'): Arr {
  let tensors = cache.get(file);
  if (!tensors) {
    tensors = readSafetensors(readFileSync(new URL(file, FIXTURES))).tensors;
    cache.set(file, tensors);
  }
  const t = tensors.get(name);
  if (!t) throw new Error(`fixture ${file} has no tensor '${name}'`);
  return { shape: t.shape, data: Array.from(t.data as ArrayLike<number>, Number) };
}

/** Largest |got − want| − rtol·|want| (≤ atol passes, as torch.allclose). */
export function worstExcess(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) - rtol * Math.abs(want[i]!));
  return worst;
}

/**
 * Runs `window.ddpm[op](...inputs)` in the page with every input requiring a gradient,
 * back-propagates `g`, and returns the output and each input's gradient.
 */
export async function gpuForwardBackward(op: string, inputs: Arr[], g: Arr): Promise<{ out: number[]; grads: number[][] }> {
  return inPage(
    async ({ op, inputs, g }: { op: string; inputs: Arr[]; g: Arr }) => {
      const d = (window as any).ddpm;
      const ts = inputs.map((a) => d.tensor(a.data, a.shape, { requiresGrad: true }));
      const out = d.scope(() => {
        const y = d[op](...ts);
        d.backward(y, d.tensor(g.data, g.shape));
        return y;
      });
      const res = { out: Array.from(await out.read()) as number[], grads: [] as number[][] };
      for (const t of ts) res.grads.push(Array.from(await t.grad.read()) as number[]);
      [out, ...ts].forEach((t) => t.dispose());
      return res;
    },
    { op, inputs, g },
  );
}
