import { chooseK, silhouette, withinDispersion, mdsCoordinates } from '../../lib/detect/autok';
import { kernelKMeans, linearKernel } from '../../lib/detect/kmeans';
import { createRng } from '../../lib/graph/rng';
import { gaussian } from '../helpers/synthetic-scan';

function euclidean(points: number[][]): number[][] {
  return points.map((a) => points.map((b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0))));
}

function blobPoints(k: number, size: number, seed: number, dims = 3): number[][] {
  const rng = createRng(seed);
  const pts: number[][] = [];
  for (let c = 0; c < k; c++) for (let i = 0; i < size; i++) pts.push(Array.from({ length: dims }, (_, d) => (d === c % dims ? 12 * (1 + Math.floor(c / dims)) : 0) + gaussian(rng)));
  return pts;
}

const base = { seed: 3, restarts: 5, maxIter: 100 };

describe('silhouette', () => {
  test('hand-computed value', () => {
    // Points 0, 1 | 5: for 0: a = 1, b = 5 → 0.8; for 1: a = 1, b = 4 → 0.75; singleton 5 → 0.
    const d = euclidean([[0], [1], [5]]);
    expect(silhouette(d, [0, 0, 1])).toBeCloseTo((0.8 + 0.75 + 0) / 3, 12);
  });
  test('undefined for a single cluster', () => {
    expect(silhouette(euclidean([[0], [1]]), [0, 0])).toBeNaN();
  });
});

describe('withinDispersion and MDS', () => {
  test('dispersion is the within-cluster sum of squares', () => {
    const d = euclidean([[0], [2], [10], [13]]);
    expect(withinDispersion(d, [0, 0, 1, 1])).toBeCloseTo(2 + 4.5, 12);
  });
  test('MDS reproduces Euclidean distances', () => {
    const pts = blobPoints(2, 4, 1);
    const d = euclidean(pts);
    const x = mdsCoordinates(d);
    const back = euclidean(x);
    for (let i = 0; i < d.length; i++) for (let j = 0; j < d.length; j++) expect(back[i][j]).toBeCloseTo(d[i][j], 6);
  });
});

describe('chooseK', () => {
  const cluster = (pts: number[][]) => (k: number) => kernelKMeans(linearKernel(pts), k, base).labels;

  test.each([2, 3, 5])('silhouette finds %i clear clusters', (k) => {
    const pts = blobPoints(k, 6, 10 + k);
    const got = chooseK(euclidean(pts), cluster(pts), { ...base, rule: 'silhouette', kMin: 1, kMax: 10 });
    expect(got.k).toBe(k);
    expect(got.criterion[k]).toBeGreaterThan(0.5);
  });

  test.each([2, 3, 4])('gap statistic finds %i clear clusters', (k) => {
    const pts = blobPoints(k, 6, 20 + k);
    expect(chooseK(euclidean(pts), cluster(pts), { ...base, rule: 'gap', kMin: 1, kMax: 8 }).k).toBe(k);
  });

  test('gap statistic answers 1 for one blob; the silhouette falls back to kMin', () => {
    const pts = blobPoints(1, 20, 7);
    expect(chooseK(euclidean(pts), cluster(pts), { ...base, rule: 'gap', kMin: 1, kMax: 8 }).k).toBe(1);
    const s = chooseK(euclidean(pts), cluster(pts), { ...base, rule: 'silhouette', kMin: 1, kMax: 8 });
    expect(Math.max(...Object.values(s.criterion))).toBeLessThan(0.5);
    expect(s.k).toBe(1);
  });

  test('components takes kMin; the range is clamped to n − 1', () => {
    const pts = blobPoints(3, 2, 4);
    const d = euclidean(pts);
    expect(chooseK(d, cluster(pts), { ...base, rule: 'components', kMin: 4, kMax: 9 }).k).toBe(4);
    const got = chooseK(d, cluster(pts), { ...base, rule: 'silhouette', kMin: 1, kMax: 99 });
    expect(Math.max(...Object.keys(got.criterion).map(Number))).toBe(5);
  });
});
