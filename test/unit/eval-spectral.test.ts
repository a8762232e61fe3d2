/**
 * Spectral statistics of the direction-signal study (lib/eval/spectral.ts) against singular
 * values from ml-matrix's SVD, on random matrices of odd sizes, wide and tall.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { hillTailExponent, spectralStats } from '../../lib/eval/spectral';
import { rng } from '../helpers/models';

describe('spectralStats', () => {
  test.each([
    [7, 13],
    [13, 7],
    [1, 5],
    [33, 33],
  ])('%i × %i: stable rank and spectral entropy equal the SVD reference', (rows, cols) => {
    const r = rng(rows * 31 + cols);
    const w = Float64Array.from({ length: rows * cols }, () => r.normal());
    const m = new Matrix(rows, cols);
    for (let i = 0; i < rows * cols; i++) m.set(Math.floor(i / cols), i % cols, w[i]);
    const s2 = new SingularValueDecomposition(m, { autoTranspose: true }).diagonal.map((x) => x * x);
    const total = s2.reduce((a, b) => a + b, 0);
    const entropy = -s2.filter((x) => x > 0).reduce((a, x) => a + (x / total) * Math.log(x / total), 0);
    const got = spectralStats(w, rows, cols);
    expect(got.stableRank).toBeCloseTo(total / Math.max(...s2), 9);
    expect(got.entropy).toBeCloseTo(entropy, 9);
    // The tail exponent from the SVD's squared singular values, by the Hill formula written out.
    const lam = [...s2].sort((a, b) => b - a);
    const k = Math.floor(lam.length / 2);
    if (lam.length < 4) expect(got.tailAlpha).toBeNaN();
    else expect(got.tailAlpha).toBeCloseTo(1 + k / lam.slice(0, k).reduce((a, x) => a + Math.log(x / lam[k]), 0), 6);
  });

  test('a rank-one matrix has stable rank 1 and entropy 0; zeros give NaN', () => {
    const w = Array.from({ length: 12 }, (_, i) => (Math.floor(i / 4) + 1) * ((i % 4) - 1.5));
    const s = spectralStats(w, 3, 4);
    expect(s.stableRank).toBeCloseTo(1, 12);
    expect(s.entropy).toBeCloseTo(0, 9);
    expect(s.tailAlpha).toBeNaN();
    expect(spectralStats(new Float64Array(6), 2, 3).stableRank).toBeNaN();
  });

  test('the Hill estimator recovers the exponent of a sampled power law', () => {
    // λ = u^(−1/(α−1)) for uniform u has density ∝ λ^−α on [1, ∞); its upper half is the same law.
    const r = rng(7);
    for (const alpha of [2, 3, 5]) {
      const lam = Float64Array.from({ length: 20000 }, () => (1 - r.uniform()) ** (-1 / (alpha - 1)));
      expect(Math.abs(hillTailExponent(lam) - alpha)).toBeLessThan(0.05 * alpha);
    }
    expect(hillTailExponent([1, 2, 3])).toBeNaN();
    expect(hillTailExponent([2, 2, 2, 2, 2])).toBeNaN();
  });
});
