/**
 * Spectral statistics of weight matrices, for the direction-signal study (scripts/
 * eval-regimes.ts): a bounded second pass that reads small float matrices of a model and
 * computes, from the eigenvalues of the smaller Gram matrix W·Wᵀ (or Wᵀ·W),
 *
 * - stable rank ‖W‖_F² / σ₁²: how many directions carry the weight's energy;
 * - spectral entropy −Σ p_i ln p_i with p_i = σ_i² / Σσ²: the same, smoothly;
 * - the heavy-tail exponent α of the eigenvalues λ = σ² (the exponent of a power-law density
 *   p(λ) ∝ λ^−α fitted to their upper half, by the Hill estimator). Heavy-tailed
 *   self-regularisation theory reads a smaller α as more training: correlations learnt from
 *   data fatten the tail of a random init's Marchenko–Pastur bulk.
 *
 * The scan's sums cannot give these (they need the matrix), so the pass is bounded: only
 * 2-dimensional F32/F16/BF16/F64 tensors whose smaller side is at most `maxSide` are read.
 */
import * as fs from 'fs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { decodeToFloat32, DTYPE_SIZES, FloatDtype, isFloatDtype } from '../io/dtype';
import type { ModelSource } from '../io/types';

export interface SpectralStats {
  stableRank: number;
  entropy: number;
  /** NaN for a matrix whose smaller side is below 4 (too few eigenvalues for a tail). */
  tailAlpha: number;
}

/**
 * Hill estimator of the power-law exponent α of a density p(λ) ∝ λ^−α over its k largest
 * values: α = 1 + k / Σ_{i<k} ln(λ_i / λ_k), λ sorted descending and λ_k the (k+1)-th largest
 * (the tail's lower edge). k is half the values: small matrices have few eigenvalues, and the
 * bulk of a trained matrix is its lower half. NaN with fewer than 4 positive values or a flat
 * top (every log ratio 0).
 */
export function hillTailExponent(values: ArrayLike<number>): number {
  const lam = Array.from(values).filter((x) => x > 0).sort((a, b) => b - a);
  const k = Math.floor(lam.length / 2);
  if (lam.length < 4 || k < 2) return NaN;
  let s = 0;
  for (let i = 0; i < k; i++) s += Math.log(lam[i] / lam[k]);
  return s > 0 ? 1 + k / s : NaN;
}

/** Stable rank, spectral entropy and tail exponent of a row-major rows × cols matrix. */
export function spectralStats(w: ArrayLike<number>, rows: number, cols: number): SpectralStats {
  const small = Math.min(rows, cols);
  const g = new Matrix(small, small);
  // G = W·Wᵀ when rows ≤ cols, else Wᵀ·W; both have the squared singular values as eigenvalues.
  for (let i = 0; i < small; i++) {
    for (let j = i; j < small; j++) {
      let s = 0;
      if (rows <= cols) for (let k = 0; k < cols; k++) s += w[i * cols + k] * w[j * cols + k];
      else for (let k = 0; k < rows; k++) s += w[k * cols + i] * w[k * cols + j];
      g.set(i, j, s);
      g.set(j, i, s);
    }
  }
  const ev = new EigenvalueDecomposition(g, { assumeSymmetric: true }).realEigenvalues.map((x) => Math.max(0, x));
  const total = ev.reduce((a, b) => a + b, 0);
  const top = Math.max(...ev);
  if (!(total > 0)) return { stableRank: NaN, entropy: NaN, tailAlpha: NaN };
  let entropy = 0;
  for (const e of ev) if (e > 0) entropy -= (e / total) * Math.log(e / total);
  // Rounding leaves eigenvalues of a rank-deficient Gram near 0 instead of 0: those below
  // 1e-12 of the largest are zeros, not the bottom of a tail.
  return { stableRank: total / top, entropy, tailAlpha: hillTailExponent(ev.filter((e) => e > 1e-12 * top)) };
}

/** Per matrix name: the stats of one model's small matrices (bounded reads, validated sizes). */
export function modelSpectra(model: ModelSource, maxSide = 512): Map<string, SpectralStats> {
  const out = new Map<string, SpectralStats>();
  const fds = new Map<string, number>();
  try {
    for (const t of model.tensors) {
      if (t.shape.length !== 2 || !isFloatDtype(t.dtype) || t.unreadable !== undefined) continue;
      const [rows, cols] = t.shape;
      if (Math.min(rows, cols) > maxSide || rows * cols * DTYPE_SIZES[t.dtype] !== t.byteLength) continue;
      let fd = fds.get(t.file);
      if (fd === undefined) fds.set(t.file, (fd = fs.openSync(t.file, 'r')));
      const buf = Buffer.alloc(t.byteLength);
      if (fs.readSync(fd, buf, 0, t.byteLength, t.offset) !== t.byteLength) continue;
      const w = decodeToFloat32(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), t.dtype as FloatDtype);
      out.set(t.name, spectralStats(w, rows, cols));
    }
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
  return out;
}
