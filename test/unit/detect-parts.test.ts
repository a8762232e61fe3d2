import { tauFromGap, chooseTau } from '../../lib/detect/tau';
import { bestRoot, chooseSign, orientForest } from '../../lib/detect/orient';
import { minimumSpanningForest, forestComponents, isForest } from '../../lib/graph/components';
import { normalCdf, edgeConfidences, pairingConfidence, pairingRival, directionConfidence, familyDirectionConfidence } from '../../lib/detect/confidence';
import { resolveOptions, METHODS } from '../../lib/detect';
import { motherMethod } from '../../lib/detect/mother';
import { InvalidArgumentError } from '../../lib/errors';

function euclidean(points: number[][]): number[][] {
  return points.map((a) => points.map((b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0))));
}

describe('τ from the distance distribution', () => {
  test('at the largest gap, between its two sides', () => {
    const t = tauFromGap([1, 1.2, 0.9, 5, 5.5, 6], 1.5);
    expect(t.below).toBe(1.2);
    expect(t.above).toBe(5);
    expect(t.tau).toBeCloseTo(Math.sqrt(6), 12);
  });
  test('no qualifying gap: τ = ∞', () => {
    expect(tauFromGap([1, 1.3, 1.6, 1.9], 1.5).tau).toBe(Infinity);
    expect(tauFromGap([2], 1.5).tau).toBe(Infinity);
    expect(tauFromGap([], 1.5).tau).toBe(Infinity);
  });
  test('rules: number, none, gap over pairs, gap over spanning-forest edges', () => {
    const d = euclidean([[0], [1], [2], [20], [21]]);
    expect(chooseTau(d, 3, 1.5).tau).toBe(3);
    expect(chooseTau(d, 'none', 1.5).tau).toBe(Infinity);
    // Pairs: 1,1,2,1 within; 18..21 across → gap 2 → 18.
    expect(chooseTau(d, 'gap', 1.5).tau).toBeCloseTo(6, 12);
    // Spanning forest edges: 1, 1, 1, 18.
    expect(chooseTau(d, 'msf-gap', 1.5).tau).toBeCloseTo(Math.sqrt(18), 12);
  });
});

describe('spanning forest and family orientation', () => {
  test('Kruskal under τ', () => {
    const d = euclidean([[0], [1], [3], [10]]);
    const f = minimumSpanningForest(d, [0, 1, 2, 3], 5);
    expect(f.map((e) => [e.a, e.b])).toEqual([[0, 1], [1, 2]]);
  });
  test('the root that makes the most edges agree', () => {
    // Star around 0 (scores: centre 1, leaves 2, 3, 4): only root 0 agrees on all 3 edges.
    const edges = [1, 2, 3].map((b) => ({ a: 0, b, weight: 1 }));
    expect(bestRoot([0, 1, 2, 3], edges, [1, 2, 3, 4])).toEqual({ root: 0, agree: 3, edges: 3 });
    // Chain 0-1-2 with scores 3, 2, 1: root 2.
    const chain = [{ a: 0, b: 1, weight: 1 }, { a: 1, b: 2, weight: 1 }];
    expect(bestRoot([0, 1, 2], chain, [3, 2, 1]).root).toBe(2);
    const parent = orientForest(3, [0, 1, 2], chain, [3, 2, 1]);
    expect(Array.from(parent)).toEqual([1, 2, -1]);
  });
  test('auto sign: branching trees decide it, chains do not', () => {
    const star = [1, 2, 3].map((b) => ({ a: 0, b, weight: 1 }));
    expect(chooseSign([0, 1, 2, 3], star, [1, 2, 3, 4]).sign).toBe(1);
    expect(chooseSign([0, 1, 2, 3], star, [-1, -2, -3, -4]).sign).toBe(-1);
    const chain = [{ a: 0, b: 1, weight: 1 }, { a: 1, b: 2, weight: 1 }];
    expect(chooseSign([0, 1, 2], chain, [1, 2, 3]).sign).toBeNull();
  });
  test('forest helpers', () => {
    expect(forestComponents([-1, 0, 0, -1, 3])).toEqual([[0, 1, 2], [3, 4]]);
    expect(isForest([-1, 0, 1])).toBe(true);
    expect(isForest([2, 0, 1])).toBe(false);
  });
});

describe('confidence', () => {
  test('normal CDF', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });
  test('factors', () => {
    expect(pairingConfidence(1, 1)).toBe(0.5);
    expect(pairingConfidence(1, 3)).toBe(0.75);
    expect(pairingConfidence(0, 0)).toBe(0.5);
    expect(pairingConfidence(2, Infinity)).toBe(1);
    expect(directionConfidence(1, 1)).toBeCloseTo(normalCdf(1), 12);
    expect(directionConfidence(0, 0)).toBe(0.5);
  });
  test('per edge: score margin over the family spread, and the rival between the pair', () => {
    // Chain 0 → 1 → 2 on a line at 0, 1, 2.5; lone 3 far away. Scores 0, 1, 2.
    const d = euclidean([[0], [1], [2.5], [100]]);
    const score = [0, 1, 2, 5];
    const c = edgeConfidences([-1, 0, 1, -1], score, d, Infinity);
    const sigma = Math.sqrt(2 / 3); // population sd of 0, 1, 2
    expect(c[1]!.direction).toBeCloseTo(normalCdf(1 / sigma), 7);
    // Pair {0,1} (D₁ = 1): model 2 is within max(2.5, 1.5) = 2.5 of both.
    expect(c[1]!.pairing).toBeCloseTo(2.5 / 3.5, 12);
    // Pair {1,2} (D₁ = 1.5): model 0 is within max(1, 2.5) = 2.5 of both.
    expect(c[2]!.pairing).toBeCloseTo(2.5 / 4, 12);
    expect(c[2]!.confidence).toBeCloseTo(c[2]!.pairing * c[2]!.direction, 12);
    expect(c[0]).toBeNull();
    // With τ = 2 becoming a root is the nearer rival of pair {1,2}.
    expect(edgeConfidences([-1, 0, 1, -1], score, d, 2)[2]!.pairing).toBeCloseTo(2 / 3.5, 12);
  });

  test('a skipped generation has the skipped model between its ends', () => {
    // 0 — 1 — 2 with 2 hung on 0: model 1 sits within 1 of both ends of a pair 2 apart.
    const d = euclidean([[0], [1], [2]]);
    expect(pairingRival(0, 2, d, Infinity)).toBe(1);
    expect(edgeConfidences([-1, 0, 0], [0, 1, 2], d, Infinity)[2]!.pairing).toBeCloseTo(1 / 3, 12);
  });

  test('family orientation: posterior of the root side', () => {
    // A pair: A = 1 for the right root, 0 for the other; ε = 1/3 → q = 2 → 2/3.
    expect(familyDirectionConfidence([-1, 0], [0, 1])[1]).toBeCloseTo(2 / 3, 12);
    // Star of four, all agreeing: ε = 1/6, q = 5; root 0 weighs q⁴, each leaf q³ → 1 − 1/9.
    const star = familyDirectionConfidence([-1, 0, 0, 0, 0], [0, 1, 1, 1, 1]);
    expect(star[1]).toBeCloseTo(1 - 1 / 9, 12);
    // The same star with one child below its parent: every root but that child's side loses.
    const bent = familyDirectionConfidence([-1, 0, 0, 0, 0], [0, 1, 1, 1, -1]);
    expect(bent[4]).toBeLessThan(0.5);
    expect(bent[1]).toBeGreaterThan(0.5);
    expect(edgeConfidences([-1, 0], [0, 1], [[0, 1], [1, 0]], Infinity, 'family')[1]!.direction).toBeCloseTo(2 / 3, 12);
  });
});

describe('options', () => {
  test('defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({ method: 'additive-tree', score: 'fake-init', scoreNormalize: 'mean-norm', scoreCombine: 'mean', scoreSign: 1, distanceNormalize: 'none', distanceCombine: 'sum', tau: 'none', k: 'auto', minCorrelation: 0.25 });
    expect(resolveOptions({ method: 'arborescence' })).toMatchObject({ distanceNormalize: 'rms', distanceCombine: 'mean', tau: 'gap' });
    expect(resolveOptions({ method: 'mother' })).toMatchObject({ score: 'kurtosis', scoreSign: 1, distanceNormalize: 'rms', lambda: 0.3 });
    expect(resolveOptions({ score: 'kurtosis' }).scoreSign).toBe('auto');
    expect(resolveOptions({ method: 'kmeans-after' }).within).toBe('star');
    expect(resolveOptions({ method: 'agglomerative' }).within).toBe('tree');
  });
  test('rejects invalid values with InvalidArgumentError', () => {
    expect(() => resolveOptions({ method: 'nope' as never })).toThrow(InvalidArgumentError);
    expect(() => resolveOptions({ k: 0 })).toThrow(InvalidArgumentError);
    expect(() => resolveOptions({ k: 2.5 })).toThrow(InvalidArgumentError);
    expect(() => resolveOptions({ tau: -1 })).toThrow(InvalidArgumentError);
    expect(() => resolveOptions({ include: '(' })).toThrow(InvalidArgumentError);
    expect(() => resolveOptions({ minCorrelation: 2 })).toThrow(InvalidArgumentError);
    expect(() => resolveOptions({ scoreSign: 0 as never })).toThrow(InvalidArgumentError);
  });
  test('every method is listed with a description', () => {
    expect(METHODS.map((m) => m.name).sort()).toEqual(['additive-tree', 'agglomerative', 'arborescence', 'dbscan', 'kmeans-after', 'kmeans-along', 'mother', 'spanning-forest', 'spectral']);
    for (const m of METHODS) expect(m.description.length).toBeGreaterThan(20);
  });
});

describe('mother', () => {
  // Chain A — B — C at 0, 1, 2 on a line; kurtosis scores A = 0, B = 2, C = 1 (C looks older
  // than B). Distances are normalised by their maximum (2).
  const d = euclidean([[0], [1], [2]]);
  const score = [0, 2, 1];
  test('the kurtosis penalty is soft: a nearer parent against it can win', () => {
    // C under B: 1/2 + λ = 0.8; C under A: 2/2 = 1.0.
    expect(Array.from(motherMethod(d, score, Infinity, 0.3))).toEqual([-1, 0, 1]);
  });
  test('a large λ makes direction win over distance', () => {
    // C under B: 0.5 + 1 = 1.5 > C under A: 1.0.
    expect(Array.from(motherMethod(d, score, Infinity, 1))).toEqual([-1, 0, 0]);
  });
  test('two models: the kurtosis decides the direction; τ splits far pairs', () => {
    const two = euclidean([[0], [1]]);
    expect(Array.from(motherMethod(two, [1, 0], Infinity, 0.3))).toEqual([1, -1]);
    expect(Array.from(motherMethod(two, [1, 0], 0.5, 0.3))).toEqual([-1, -1]);
  });
});
