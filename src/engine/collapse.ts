// Index-space simplification before a strided kernel runs: drop size-1 axes and merge
// neighbouring axes that are contiguous in every operand. A [B,C,H,W] concat along C becomes a
// rank-2 copy, a [B,C,1,1] → [B,C,H,W] broadcast a rank-2 one; kernels are specialised by rank.

export interface CollapsedIndexSpace {
  shape: number[];
  /** One stride list per operand, aligned with `shape`. */
  strides: number[][];
}

export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]): CollapsedIndexSpace {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    // Axis d continues the previous kept axis in every operand: merge.
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}
