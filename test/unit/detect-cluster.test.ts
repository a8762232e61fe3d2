import { agglomerative } from '../../lib/detect/agglomerative';
import { spectral, affinity } from '../../lib/detect/spectral';
import { dbscan } from '../../lib/detect/dbscan';
import { canonicalLabels, kernelKMeans, linearKernel } from '../../lib/detect/kmeans';
import { forestFromClusters } from '../../lib/detect/within';
import { createRng } from '../../lib/graph/rng';
import { gaussian } from '../helpers/synthetic-scan';

function euclidean(points: number[][]): number[][] {
  return points.map((a) => points.map((b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0))));
}

function blobs(sizes: number[], spread: number, seed: number): { d: number[][]; labels: number[] } {
  const rng = createRng(seed);
  const points: number[][] = [];
  const labels: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      points.push([20 * c + spread * gaussian(rng), (c % 2) * 15 + spread * gaussian(rng)]);
      labels.push(c);
    }
  });
  return { d: euclidean(points), labels };
}

const km = { restarts: 5, seed: 0, maxIter: 100 };

describe('agglomerative', () => {
  test.each(['average', 'ward'] as const)('%s linkage separates separable clusters', (linkage) => {
    const { d, labels } = blobs([5, 8, 3], 1, 2);
    expect(Array.from(agglomerative(d, 3, linkage))).toEqual(Array.from(canonicalLabels(labels)));
  });

  test('average linkage merges by mean distance (hand example)', () => {
    // Points 0, 1, 3, 7 on a line. Merges: {0,1} at 1, then 3 joins at mean(3,2) = 2.5 < 4.
    const d = euclidean([[0], [1], [3], [7]]);
    expect(Array.from(agglomerative(d, 2, 'average'))).toEqual([0, 0, 0, 1]);
    expect(Array.from(agglomerative(d, 3, 'average'))).toEqual([0, 0, 1, 2]);
  });

  test('ward merges by the increase of within-cluster variance (hand example)', () => {
    // 0, 1, 5, 6, 6.5: {6,6.5} (cost 0.125), {0,1} (0.5), then 5 joins {6,6.5} at
    // 2·1/3·(5−6.25)² ≈ 1.04 rather than anything with {0,1}.
    const d = euclidean([[0], [1], [5], [6], [6.5]]);
    expect(Array.from(agglomerative(d, 2, 'ward'))).toEqual([0, 0, 1, 1, 1]);
    expect(Array.from(agglomerative(d, 3, 'ward'))).toEqual([0, 0, 1, 2, 2]);
  });

  test('never merges across infinite distance', () => {
    const d = [
      [0, 1, Infinity],
      [1, 0, Infinity],
      [Infinity, Infinity, 0],
    ];
    expect(Array.from(agglomerative(d, 1, 'average'))).toEqual([0, 0, 1]);
  });
});

describe('spectral', () => {
  test('separates separable clusters', () => {
    const { d, labels } = blobs([6, 6, 5, 7], 1.5, 5);
    expect(Array.from(spectral(d, 4, km))).toEqual(Array.from(canonicalLabels(labels)));
  });

  test('follows connectivity, not compactness: two parallel lines', () => {
    // Two chains of 24 points spaced 1, 8 apart. k-means prefers cutting them left/right
    // (within-cluster SS 1339 against 2300); the normalised cut prefers the two lines.
    const pts: number[][] = [];
    for (let i = 0; i < 24; i++) pts.push([i, 0]);
    for (let i = 0; i < 24; i++) pts.push([i, 8]);
    const labels = spectral(euclidean(pts), 2, km);
    expect(Array.from(labels)).toEqual([...Array(24).fill(0), ...Array(24).fill(1)]);
    const plain = kernelKMeans(linearKernel(pts), 2, km).labels;
    expect(plain[0]).not.toBe(plain[23]);
  });

  test('models without affinity are clusters by themselves', () => {
    const d = [
      [0, 1, Infinity],
      [1, 0, Infinity],
      [Infinity, Infinity, 0],
    ];
    expect(affinity(d)[0][2]).toBe(0);
    expect(Array.from(spectral(d, 2, km))).toEqual([0, 0, 1]);
  });
});

describe('dbscan', () => {
  test('clusters and noise on a line', () => {
    const d = euclidean([[0], [0.5], [1], [10], [10.4], [30]]);
    expect(Array.from(dbscan(d, 0.6, 2))).toEqual([0, 0, 0, 1, 1, -1]);
    // minPts 3: the pair at 10 is too small to be a cluster.
    expect(Array.from(dbscan(d, 0.6, 3))).toEqual([0, 0, 0, -1, -1, -1]);
  });

  test('border points join but do not extend a cluster', () => {
    // eps 1, minPts 4: only 1 is core ({0, 0.5, 1, 2}); 2 is a border point (3 neighbours);
    // 3 is within eps of the border point alone, so it stays noise.
    const d = euclidean([[0], [0.5], [1], [2], [3]]);
    expect(Array.from(dbscan(d, 1, 4))).toEqual([0, 0, 0, 0, -1]);
  });

  test('infinite distances are never neighbours', () => {
    const d = [
      [0, Infinity],
      [Infinity, 0],
    ];
    expect(Array.from(dbscan(d, Infinity, 2))).toEqual([-1, -1]);
  });
});

describe('clusters to trees', () => {
  // A chain 0 → 1 → 2 (scores rising) and a lone 3.
  const d = euclidean([[0], [1], [2], [50]]);
  const score = [0, 1, 2, 0.5];
  const labels = [0, 0, 0, 1];
  test('star hangs everything on the lowest score', () => {
    expect(Array.from(forestFromClusters(labels, d, score, 'star'))).toEqual([-1, 0, 0, -1]);
  });
  test('arborescence and tree recover the chain', () => {
    expect(Array.from(forestFromClusters(labels, d, score, 'arborescence'))).toEqual([-1, 0, 1, -1]);
    expect(Array.from(forestFromClusters(labels, d, score, 'tree'))).toEqual([-1, 0, 1, -1]);
  });
  test('tree orients by majority: one inverted score does not cost an edge', () => {
    // Chain 0 — 1 — 2 — 3 (unit steps) with scores 0, 2, 1, 3: model 2 looks older than its
    // parent 1. Per edge, 2 can only hang on 0 (its sole lower-score model); orienting the
    // chain as a whole keeps it: root 0 agrees on 2 of 3 edges, more than any other root
    // except 2, which ties and loses on the total score rise (3 against 1).
    const dd = euclidean([[0], [1], [2], [3]]);
    const s = [0, 2, 1, 3];
    expect(Array.from(forestFromClusters([0, 0, 0, 0], dd, s, 'arborescence'))).toEqual([-1, 0, 0, 2]);
    expect(Array.from(forestFromClusters([0, 0, 0, 0], dd, s, 'tree'))).toEqual([-1, 0, 1, 2]);
  });
});
