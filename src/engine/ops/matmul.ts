// Batched matmul with numpy batch broadcasting and optional transposes of either operand.
// Kernel: src/shaders/matmul.ts. Reference: src/engine/reference/matmul.ts.
// Checks: src/engine/checks/matmul.ts.

import {
  MATMUL_BLOCK_M,
  MATMUL_BLOCK_N,
  MATMUL_TILED_BLOCK,
  MATMUL_TILED_K,
  MATMUL_VEC4_QUADS,
  MATMUL_VEC4_ROWS,
  MATMUL_BLOCK_WG_M,
  MATMUL_BLOCK_WG_N,
  matmulGeneralKernel,
  matmulStridedKernel,
  matmulTiledKernel,
  matmulVec4Kernel,
} from '../../shaders/matmul.ts';
import { runtime } from '../runtime.ts';
import { record } from '../tape.ts';
import { broadcastShapes, broadcastStrides, fmt, sizeOf } from '../shape.ts';
import { assertSameDtype, assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { launch } from './launch.ts';
import { sumRaw, sumToRaw } from './raw/reduce.ts';

export interface MatmulOptions {
  /** Use Aᵀ: A is stored [..., K, M]. */
  transposeA?: boolean;
  /** Use Bᵀ: B is stored [..., N, K]. */
  transposeB?: boolean;
}

interface MatmulPlan {
  batchShape: number[];
  M: number;
  N: number;
  K: number;
}

function plan(a: Tensor, b: Tensor, ta: boolean, tb: boolean): MatmulPlan {
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`matmul: operands need rank ≥ 2, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`);
  }
  const [aRows, aCols] = a.shape.slice(-2) as [number, number];
  const [bRows, bCols] = b.shape.slice(-2) as [number, number];
  const M = ta ? aCols : aRows;
  const Ka = ta ? aRows : aCols;
  const Kb = tb ? bCols : bRows;
  const N = tb ? bRows : bCols;
  if (Ka !== Kb) {
    throw new Error(
      `matmul: inner dimensions differ: a ${fmt(a.shape)}${ta ? 'ᵀ' : ''} has K=${Ka}, b ${fmt(b.shape)}${tb ? 'ᵀ' : ''} has K=${Kb}`,
    );
  }
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2), ['a (batch)', 'b (batch)']);
  return { batchShape, M, N, K: Ka };
}

/** Each K slice of a split-K launch covers at least this many K (fewer: the adds cost more). */
export const MATMUL_MIN_SPLIT_K = 256;

/**
 * K slices for a launch of `tiles` workgroups per batch over K in steps of `kStep`: enough slices
 * to reach the adapter's target workgroup count, each at least MATMUL_MIN_SPLIT_K long, no more
 * (slices × batches) than the grid's z allows, and at most `maxSlices` (copies of C one binding holds).
 */
export function matmulKSlices(
  tiles: number,
  batches: number,
  K: number,
  kStep: number,
  target: number,
  maxSlices = Infinity,
): { slices: number; kChunk: number } {
  const wanted = Math.min(Math.ceil(target / (tiles * batches)), Math.floor(K / MATMUL_MIN_SPLIT_K), Math.floor(65535 / batches), maxSlices);
  if (wanted <= 1) return { slices: 1, kChunk: Math.max(kStep, Math.ceil(K / kStep) * kStep) };
  const kChunk = Math.ceil(K / wanted / kStep) * kStep;
  return { slices: Math.ceil(K / kChunk), kChunk };
}

/** Rows per invocation at most of the block kernels for a matmul under `matmulLargeBlockMinFlops`. */
export const MATMUL_SMALL_WORK_ROWS = 8;

/**
 * The vec4 kernel's block per invocation (rows × 4·quads of C): the largest (at most `maxRows`
 * rows) whose workgroup's block C fills at least once along each axis, shrunk (rows first) while
 * the launch would occupy fewer than `target` workgroups.
 */
export function vec4BlockFor(M: number, N: number, batches: number, target: number, maxRows: number = MATMUL_VEC4_ROWS[0]): { rows: number; quads: number } {
  let rows = MATMUL_VEC4_ROWS.find((r) => r <= maxRows && M >= r * MATMUL_BLOCK_WG_M) ?? MATMUL_VEC4_ROWS.at(-1)!;
  let quads = MATMUL_VEC4_QUADS.find((q) => N >= 4 * q * MATMUL_BLOCK_WG_N) ?? MATMUL_VEC4_QUADS.at(-1)!;
  const workgroups = () => Math.ceil(M / (rows * MATMUL_BLOCK_WG_M)) * Math.ceil(N / (4 * quads * MATMUL_BLOCK_WG_N)) * batches;
  while (workgroups() < target) {
    if (rows > MATMUL_VEC4_ROWS.at(-1)!) rows /= 2;
    else if (quads > MATMUL_VEC4_QUADS.at(-1)!) quads /= 2;
    else break;
  }
  return { rows, quads };
}

/** op(A)·op(B) (+ bias [N] on every row) without recording (for backward rules and linear). */
export function matmulRaw(a: Tensor, b: Tensor, ta: boolean, tb: boolean, bias: Tensor | null = null): Tensor {
  const { batchShape, M, N, K } = plan(a, b, ta, tb);
  const tuning = runtime().tuning;
  const tiled = tuning.matmulTiled;
  const outShape = [...batchShape, M, N];
  const batches = sizeOf(batchShape);
  if (sizeOf(outShape) === 0) return emptyTensor(outShape, 'matmul', a.dtype);
  // The block kernels (software adapters) take K and N multiples of 4; transposed operands are
  // read through their strides.
  const maxRows = 2 * M * N * K * batches < tuning.matmulLargeBlockMinFlops ? MATMUL_SMALL_WORK_ROWS : MATMUL_VEC4_ROWS[0];
  const vec4Block = !tiled && K % 4 === 0 && N % 4 === 0 ? vec4BlockFor(M, N, batches, tuning.matmulBlockTargetWorkgroups, maxRows) : null;
  const [blockM, blockN, kStep] = tiled
    ? [MATMUL_TILED_BLOCK, MATMUL_TILED_BLOCK, MATMUL_TILED_K]
    : vec4Block
      ? [vec4Block.rows * MATMUL_BLOCK_WG_M, 4 * vec4Block.quads * MATMUL_BLOCK_WG_N, 4]
      : [MATMUL_BLOCK_M, MATMUL_BLOCK_N, 1];
  const tiles = Math.ceil(N / blockN) * Math.ceil(M / blockM);
  // The slices' copies of C share one binding.
  const maxSlices = Math.floor(tuning.maxBindingBytes / (4 * sizeOf(outShape)));
  // f16 (sampling) sums K in one slice: its slices' copies of C would round each partial sum.
  const { slices, kChunk } = matmulKSlices(tiles, batches, K, kStep, tuning.matmulTargetWorkgroups, a.dtype === 'f16' ? 1 : maxSlices);
  if (batches * slices > 65535) throw new Error(`matmul: ${batches} batches exceed the 65535 dispatch limit`);
  const out = emptyTensor(slices > 1 ? [slices, ...outShape] : outShape, slices > 1 ? 'matmul-k-slices' : 'matmul', a.dtype);
  // Batch strides of a and b in elements, 0 along broadcast batch axes.
  const aMat = a.shape.slice(-2).reduce((x, y) => x * y, 1);
  const bMat = b.shape.slice(-2).reduce((x, y) => x * y, 1);
  const aBatchStrides = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * aMat);
  const bBatchStrides = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * bMat);
  const buffers = { as_: a, bs: b, cs: out, bias };
  const uniforms = {
    batchShape,
    aBatchStrides,
    bBatchStrides,
    batchRank: batchShape.length,
    M,
    N,
    K,
    aStrideM: ta ? 1 : K,
    aStrideK: ta ? M : 1,
    bStrideK: tb ? 1 : N,
    bStrideN: tb ? K : 1,
    batches,
    kChunk,
  };
  const grid = [Math.ceil(N / blockN), Math.ceil(M / blockM), batches * slices] as const;
  if (tiled) launch(matmulTiledKernel, { aTransposed: ta, bTransposed: tb }, buffers, uniforms, grid);
  else if (vec4Block && (ta || tb)) launch(matmulStridedKernel, vec4Block, buffers, uniforms, grid);
  else if (vec4Block) launch(matmulVec4Kernel, vec4Block, buffers, uniforms, grid);
  else launch(matmulGeneralKernel, {}, buffers, uniforms, grid);
  if (slices === 1) return out;
  const summed = sumRaw(out, 0);
  out.dispose();
  return summed;
}

/** C = op(A)·op(B) over the last two axes, broadcasting the leading (batch) axes. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  assertTensor('matmul', 'a', a);
  assertTensor('matmul', 'b', b);
  assertSameDtype('matmul', { a, b });
  const ta = options.transposeA ?? false;
  const tb = options.transposeB ?? false;
  const out = matmulRaw(a, b, ta, tb);
  return record(out, 'matmul', [a, b], (g) => {
    // With C = A·B: dA = G·Bᵀ and dB = Aᵀ·G; transposed operands swap roles.
    const ga = a.requiresGrad ? (ta ? matmulRaw(b, g, tb, true) : matmulRaw(g, b, false, !tb)) : null;
    const gb = b.requiresGrad ? (tb ? matmulRaw(g, a, true, ta) : matmulRaw(a, g, !ta, false)) : null;
    return [ga && reduceBatch(ga, a), gb && reduceBatch(gb, b)];
  });
}

/** Sums a gradient over batch axes that the operand was broadcast along. */
function reduceBatch(g: Tensor, operand: Tensor): Tensor {
  if (g.rank === operand.rank && g.shape.every((d, i) => d === operand.shape[i])) return g;
  const reduced = sumToRaw(g, operand.shape);
  g.dispose();
  return reduced;
}
