// `ddpm bench --peers tfjs,jax`: TensorFlow.js and jax-js time the same workload in the same page
// right after ours, and the row carries each peer's ms, first call and ratio = peer ms / our ms.
// Also the parts that need no GPU: WORKLOADS' U-Net as the peers build it, and the layout helpers.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runDdpm } from '../setup/hang-guard.ts';
import { nchwToNhwc, oihwToHwio } from '../../src/bench/peers/common.ts';
import { initialParams, UNET_PARAMS } from '../../src/bench/peers/workloads-unet.ts';

// Hang guard: at least 5x the slowest run measured on one pinned core (12.5 s).
const ddpm = (...args: string[]) => runDdpm(args, { limitMs: 300_000 });

interface PeerCell {
  ms?: number;
  ratio?: number;
  first_call_ms?: number;
  checksum?: number;
  wall?: { times_ms: number[] };
  reason?: string;
}

describe('bench --peers', () => {
  test('matmul_256 in ours, tfjs and jax-js: both peers timed, ratio = peer ms / our ms, same result', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ddpm-peers-')), 'bench.json');
    const r = await ddpm('bench', '--peers', 'tfjs,jax', '--only', 'matmul_256', '--json', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tfjs\/ours/);
    expect(r.stdout).toMatch(/jax\/ours/);

    const result = JSON.parse(readFileSync(file, 'utf8'));
    expect(result.peers.tfjs.version).toBe('4.22.0');
    expect(result.peers.jax.version).toBe('0.1.25');
    expect(result.rows.map((row: { name: string }) => row.name)).toEqual(['matmul_256']);
    const row = result.rows[0];
    expect(row.ms).toBeGreaterThan(0);
    expect(row.first_call_ms).toBeGreaterThan(0);
    for (const name of ['tfjs', 'jax']) {
      const peer = row.peers[name] as PeerCell;
      expect(peer.reason, `${name}: ${peer.reason}`).toBeUndefined();
      expect(peer.ms).toBeGreaterThan(0);
      expect(peer.first_call_ms).toBeGreaterThan(0);
      expect(peer.ratio).toBeCloseTo(peer.ms! / row.ms, 9);
      // As ours: 3 warm-up reps, then 10 timed ones.
      expect(peer.wall!.times_ms).toHaveLength(10);
      // The same seeded A and B in all three engines: Σ C agrees to float32 rounding.
      expect(Math.abs(peer.checksum! - row.check.checksum)).toBeLessThan(1e-3 * Math.abs(row.check.checksum));
    }
  });

  test('a bad --peers list is refused before anything starts', async () => {
    const r = await ddpm('bench', '--peers', 'tfjs,torch');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--peers takes a comma-separated list of tfjs, jax/);
  });
});

describe("WORKLOADS' U-Net for the peers", () => {
  test('827,233 parameters, initialised as WORKLOADS.md says', () => {
    // WORKLOADS.md says 120 tensors; its modules, written out one weight and one bias per conv and
    // linear and a gamma and beta per GroupNorm, have 136 (bench/README.md) with exactly its 827,233 numbers.
    expect(UNET_PARAMS).toHaveLength(136);
    expect(UNET_PARAMS.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0)).toBe(827_233);
    const shape = (name: string) => UNET_PARAMS.find((p) => p.name === name)?.shape;
    expect(shape('down1.res.skip.w')).toEqual([64, 32, 1, 1]);
    expect(shape('down1.res.temb_proj.w')).toEqual([128, 64]);
    expect(shape('up0.res.conv1.w')).toEqual([32, 96, 3, 3]);
    const values = initialParams();
    expect([...values.get('norm_out.gamma')!]).toEqual(new Array(32).fill(1));
    expect([...values.get('conv_out.b')!]).toEqual([0]);
    const w = values.get('mid.attn.q.w')!;
    const std = Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.9 / 8);
    expect(std).toBeLessThan(1.1 / 8);
  });

  test('NCHW → NHWC and OIHW → HWIO move each element where tfjs expects it', () => {
    const x = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
    const nhwc = nchwToNhwc(x, [2, 3, 4, 5]);
    // [n,h,w,c] of NHWC is [n,c,h,w] of NCHW.
    expect(nhwc[((1 * 4 + 2) * 5 + 3) * 3 + 1]).toBe(x[((1 * 3 + 1) * 4 + 2) * 5 + 3]);
    const hwio = oihwToHwio(x, [2, 3, 4, 5]);
    // [kh,kw,ci,co] of HWIO is [co,ci,kh,kw] of OIHW.
    expect(hwio[((3 * 5 + 4) * 3 + 2) * 2 + 1]).toBe(x[((1 * 3 + 2) * 4 + 3) * 5 + 4]);
  });
});
