import { adjustedRandIndex } from '../../lib/eval/ari';

describe('adjusted Rand index', () => {
  test('hand-computed: [0,0,0,1,1,1] vs [0,0,1,1,2,2] = (2 − 1.2)/(4.5 − 1.2)', () => {
    // Pairs together in both: 2; row pairs 6, column pairs 3, all pairs 15 → expected 6·3/15.
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(0.8 / 3.3, 12);
  });
  test('hand-computed: crossed halves score −0.5', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
  });
  test('label values do not matter; symmetric', () => {
    const a = ['x', 'x', 'y', 'z', 'z', 'z', 'y'];
    const b = [3, 3, 3, 1, 1, 2, 2];
    expect(adjustedRandIndex(a, b)).toBeCloseTo(adjustedRandIndex(b, a), 12);
    expect(adjustedRandIndex(a, ['p', 'p', 'q', 'r', 'r', 'r', 'q'])).toBe(1);
  });
  test('degenerate partitions', () => {
    expect(adjustedRandIndex([0, 1, 2], [5, 6, 7])).toBe(1); // all singletons, both
    expect(adjustedRandIndex([0, 0, 0], [1, 1, 1])).toBe(1); // one block, both
    expect(adjustedRandIndex([0, 0, 0], [0, 1, 2])).toBe(0); // one block vs singletons
    expect(adjustedRandIndex([], [])).toBe(1);
    expect(adjustedRandIndex([4], [9])).toBe(1);
  });
  test('hand-computed with a larger table', () => {
    // a: 0 0 0 0 1 1 1 2 2 ; b: 0 0 1 1 1 1 2 2 2
    // cells: (0,0)2 (0,1)2 (1,1)2 (1,2)1 (2,2)2 → index 1+1+1+0+1 = 4
    // rows 4,3,2 → 6+3+1 = 10; cols 2,4,3 → 1+6+3 = 10; pairs 36 → expected 100/36.
    const expected = (4 - 100 / 36) / (10 - 100 / 36);
    expect(adjustedRandIndex([0, 0, 0, 0, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1, 2, 2, 2])).toBeCloseTo(expected, 12);
  });
  test('rejects partitions of different sizes', () => {
    expect(() => adjustedRandIndex([0], [0, 1])).toThrow(RangeError);
  });
});
