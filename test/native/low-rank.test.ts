/**
 * The native low-rank sketch (native/core/low_rank.h via lowRankSpectrum) against the float64
 * reference (lib/detect/typing/low-rank-ref.ts: a full SVD) on fresh random matrices whose sizes
 * are multiples of no block size, and the rank rule of lib/detect/typing/low-rank.ts.
 */
import { native } from '../../lib/native';
import { exactSpectrum } from '../../lib/detect/typing/low-rank-ref';
import { rankFromSpectrum } from '../../lib/detect/typing/low-rank';

function gaussian(n: number, seed: number): Float32Array {
  // A fresh seed per run keeps the check honest; it is printed on failure through the sizes.
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

/** parent + U·V (rank r) + noise·N, all [rows, cols]. */
function lowRankPair(rows: number, cols: number, r: number, noise: number, seed: number) {
  const parent = gaussian(rows * cols, seed);
  const u = gaussian(rows * r, seed + 1);
  const v = gaussian(r * cols, seed + 2);
  const n = gaussian(rows * cols, seed + 3);
  const child = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += u[i * r + k] * v[k * cols + j];
      child[i * cols + j] = parent[i * cols + j] + 0.05 * d + noise * n[i * cols + j];
    }
  return { parent, child };
}

const seed0 = (Date.now() % 100000) + 7;

describe('lowRankSpectrum (native) against a float64 SVD', () => {
  it.each([
    [37, 53, 3],
    [61, 29, 5],
    [100, 71, 7],
    [13, 130, 2],
  ])('finds the top singular values of a rank-r change, %i × %i, r = %i', async (rows, cols, r) => {
    const { parent, child } = lowRankPair(rows, cols, r, 0, seed0 + rows);
    const got = await native().lowRankSpectrum(child, parent, rows, cols, { k: r + 8, powerIters: 1, seed: 3 });
    const ref = exactSpectrum(child, parent, rows, cols);
    expect(got.singular.length).toBe(Math.min(r + 8, rows, cols));
    expect(Math.abs(got.energy - ref.energy) / ref.energy).toBeLessThan(1e-9);
    for (let i = 0; i < r; i++) expect(Math.abs(got.singular[i] - ref.singular[i]) / ref.singular[i]).toBeLessThan(1e-6);
    // Beyond r the change has only float32 rounding.
    expect(got.singular[r]).toBeLessThan(1e-4 * got.singular[0]);
    expect(rankFromSpectrum(got.singular, got.energy, 0)).toBe(r);
  });

  it('never overstates a singular value of a full-rank matrix, and sketches the largest closely', async () => {
    const rows = 45, cols = 33;
    const child = gaussian(rows * cols, seed0);
    const got = await native().lowRankSpectrum(child, null, rows, cols, { k: 12, powerIters: 2, seed: 1 });
    const ref = exactSpectrum(child, null, rows, cols);
    got.singular.forEach((s, i) => expect(s).toBeLessThanOrEqual(ref.singular[i] * (1 + 1e-9)));
    expect(got.singular[0]).toBeGreaterThan(0.9 * ref.singular[0]);
    // A dense random change is not low-rank at any r the sketch can see.
    expect(rankFromSpectrum(got.singular, got.energy, 0)).toBeNull();
  });

  it('counts rounding-sized noise as noise, not rank', async () => {
    const rows = 50, cols = 41, r = 4;
    const { parent, child } = lowRankPair(rows, cols, r, 1e-3, seed0 + 11);
    const got = await native().lowRankSpectrum(child, parent, rows, cols, { k: 12, powerIters: 1 });
    expect(rankFromSpectrum(got.singular, got.energy, rows * cols * 1e-6)).toBe(r);
  });

  it('the rank rule: the tail left by the top r values must fit in the noise and capture allowance', () => {
    // energy 100: 1% capture = 1; tails after r = 0, 1, 2, 3: 100, 19, 3, 0.75 (+ noise allowance 4 × noise).
    expect(rankFromSpectrum([9, 4, 1.5], 100, 0)).toBe(3);
    expect(rankFromSpectrum([9, 4], 100, 0)).toBeNull();
    expect(rankFromSpectrum([9, 4, 1.5], 100, 0.5)).toBe(2);
    expect(rankFromSpectrum([9, 4, 1.5], 100, 5)).toBe(1);
    expect(rankFromSpectrum([9, 4, 1.5], 0.5, 1)).toBe(0); // all of it within the noise allowance
  });

  it('refuses arrays that do not match rows × cols, and bad options', () => {
    const a = new Float32Array(6);
    expect(() => native().lowRankSpectrum(a, new Float32Array(5), 2, 3)).toThrow(/parent has 5 elements/);
    expect(() => native().lowRankSpectrum(a, null, 0, 3)).toThrow(/positive integers/);
    expect(() => native().lowRankSpectrum(a, null, 2, 3, { k: 0 })).toThrow(/k must be/);
    expect(() => native().lowRankSpectrum(new Float64Array(6) as unknown as Float32Array, null, 2, 3)).toThrow(/Float32Array/);
  });
});
