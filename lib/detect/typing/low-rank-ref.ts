/**
 * The float64 reference for the native low-rank sketch (native/core/low_rank.h): every singular
 * value of child − parent by a full SVD (ml-matrix), and ‖Δ‖². Only for checks on small
 * matrices (test/native/low-rank.test.ts); the detector uses the bounded sketch.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

export function exactSpectrum(child: Float32Array, parent: Float32Array | null, rows: number, cols: number): { singular: number[]; energy: number } {
  const m = new Matrix(rows, cols);
  let energy = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const d = child[i * cols + j] - (parent ? parent[i * cols + j] : 0);
      m.set(i, j, d);
      energy += d * d;
    }
  }
  const s = new SingularValueDecomposition(m, { autoTranspose: true, computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
  return { singular: [...s].sort((a, b) => b - a), energy };
}
