/**
 * What merging a rank-r LoRA adapter leaves: a matrix's fine-tuning update replaced by its best
 * rank-r approximation (truncated SVD), added back to the start. Shared by every network the
 * regime zoos train, so a "LoRA-style" child means the same thing on each.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

/** start + the best rank-`rank` approximation of (tuned − start); both row-major rows × cols. */
export function lowRankMerge(start: Float32Array, tuned: Float32Array, rows: number, cols: number, rank: number): Float32Array {
  const delta = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) delta.set(i, j, tuned[i * cols + j] - start[i * cols + j]);
  const svd = new SingularValueDecomposition(delta, { autoTranspose: true });
  const k = Math.min(rank, svd.diagonal.length);
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const merged = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += U.get(i, r) * svd.diagonal[r] * V.get(j, r);
      merged[i * cols + j] = start[i * cols + j] + s;
    }
  }
  return merged;
}
