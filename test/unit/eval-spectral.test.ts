/**
 * Spectral statistics of the direction-signal study (lib/eval/spectral.ts) against singular
 * values from ml-matrix's SVD, on random matrices of odd sizes, wide and tall.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { spectralStats } from '../../lib/eval/spectral';
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
  });

  test('a rank-one matrix has stable rank 1 and entropy 0; zeros give NaN', () => {
    const w = Array.from({ length: 12 }, (_, i) => (Math.floor(i / 4) + 1) * ((i % 4) - 1.5));
    const s = spectralStats(w, 3, 4);
    expect(s.stableRank).toBeCloseTo(1, 12);
    expect(s.entropy).toBeCloseTo(0, 9);
    expect(spectralStats(new Float64Array(6), 2, 3).stableRank).toBeNaN();
  });
});
