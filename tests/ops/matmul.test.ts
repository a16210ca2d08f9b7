import { describe, expect, it } from 'vitest';
import { matmulChecks } from '../../src/engine/checks/matmul.ts';
import { MATMUL_MIN_SPLIT_K, MATMUL_SMALL_WORK_ROWS, matmulKSlices, vec4BlockFor } from '../../src/engine/ops/matmul.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(matmulChecks);

describe('matmul split-K plan', () => {
  it('splits a long K over few workgroups until the target count runs', () => {
    // [32768x256]ᵀ·[32768x256] on a GPU: 16 tiles of 64x64, target 256 workgroups.
    expect(matmulKSlices(16, 1, 32768, 16, 256)).toEqual({ slices: 16, kChunk: 2048 });
  });

  it('keeps every slice at least MATMUL_MIN_SPLIT_K long and covers K exactly once', () => {
    for (const [tiles, batches, K, step, target] of [
      [1, 1, 600, 1, 64],
      [1, 1, 520, 16, 64],
      [2, 3, 5000, 4, 256],
      [1, 1, 100000, 16, 256],
    ] as const) {
      const { slices, kChunk } = matmulKSlices(tiles, batches, K, step, target);
      expect(slices).toBeGreaterThan(1);
      expect(kChunk % step).toBe(0);
      expect(kChunk).toBeGreaterThanOrEqual(MATMUL_MIN_SPLIT_K);
      expect((slices - 1) * kChunk).toBeLessThan(K);
      expect(slices * kChunk).toBeGreaterThanOrEqual(K);
      expect(slices * tiles * batches).toBeLessThanOrEqual(Math.max(target, tiles * batches) + tiles * batches);
    }
  });

  it('does not split when the grid is already full, K is short, or the batch fills grid z', () => {
    expect(matmulKSlices(256, 1, 100000, 16, 256).slices).toBe(1);
    expect(matmulKSlices(1, 1, 300, 16, 256).slices).toBe(1);
    expect(matmulKSlices(1, 65535, 100000, 16, 1e9).slices).toBe(1);
  });
});

describe('matmul block plan (software adapters)', () => {
  it('takes the largest block that keeps the target workgroups busy', () => {
    // matmul_256 on 2 CPU threads: 32 rows × 16 columns per invocation, 32 workgroups.
    expect(vec4BlockFor(256, 256, 1, 2)).toEqual({ rows: 32, quads: 4 });
    // Rows halve first while too few workgroups run.
    expect(vec4BlockFor(64, 32, 1, 4)).toEqual({ rows: 8, quads: 4 });
  });

  it('caps the rows of a small matmul, whose run time cannot repay a large block\'s build', () => {
    expect(vec4BlockFor(256, 32, 1, 2, MATMUL_SMALL_WORK_ROWS)).toEqual({ rows: 8, quads: 4 });
    expect(vec4BlockFor(256, 32, 1, 2)).toEqual({ rows: 32, quads: 4 });
  });
});
