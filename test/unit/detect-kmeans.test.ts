import { kernelFromDistances, kernelKMeans, kmeansAfter, linearKernel, canonicalLabels } from '../../lib/detect/kmeans';
import { kmeansAlong } from '../../lib/detect/kmeans-along';
import { createRng } from '../../lib/graph/rng';
import { gaussian } from '../helpers/synthetic-scan';

/** `sizes[c]` points around centre c (well separated), in `dims` dimensions. */
function blobs(sizes: number[], dims: number, spread: number, seed: number): { points: number[][]; labels: number[] } {
  const rng = createRng(seed);
  const points: number[][] = [];
  const labels: number[] = [];
  sizes.forEach((size, c) => {
    const centre = Array.from({ length: dims }, (_, d) => (d === c % dims ? 10 * (1 + Math.floor(c / dims)) : 0));
    for (let i = 0; i < size; i++) {
      points.push(centre.map((x) => x + spread * gaussian(rng)));
      labels.push(c);
    }
  });
  return { points, labels };
}

function euclidean(points: number[][]): number[][] {
  return points.map((a) => points.map((b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0))));
}

const opts = { restarts: 5, seed: 1, maxIter: 100 };

describe('kernel k-means', () => {
  test('recovers separable clusters exactly', () => {
    const { points, labels } = blobs([6, 4, 7], 5, 1, 3);
    const got = kernelKMeans(linearKernel(points), 3, opts).labels;
    expect(Array.from(got)).toEqual(Array.from(canonicalLabels(labels)));
  });

  test('the kernel from distances is the centred Gram, so it clusters the same', () => {
    const { points } = blobs([5, 5], 3, 1, 8);
    const K = kernelFromDistances(euclidean(points));
    const n = points.length;
    const mean = points[0].map((_, d) => points.reduce((s, p) => s + p[d], 0) / n);
    const centred = points.map((p) => p.map((x, d) => x - mean[d]));
    const gram = linearKernel(centred);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(K[i][j]).toBeCloseTo(gram[i][j], 8);
    expect(Array.from(kernelKMeans(K, 2, opts).labels)).toEqual(Array.from(kernelKMeans(linearKernel(points), 2, opts).labels));
  });

  test('objective is the within-cluster sum of squares', () => {
    const points = [[0], [2], [10], [12]];
    const r = kernelKMeans(linearKernel(points), 2, opts);
    expect(Array.from(r.labels)).toEqual([0, 0, 1, 1]);
    expect(r.objective).toBeCloseTo(4, 10); // (1² + 1²) per cluster
  });

  test('k = 1 and k ≥ n', () => {
    const K = linearKernel([[0], [1], [5]]);
    expect(Array.from(kernelKMeans(K, 1, opts).labels)).toEqual([0, 0, 0]);
    expect(Array.from(kernelKMeans(K, 3, opts).labels)).toEqual([0, 1, 2]);
    expect(Array.from(kernelKMeans(K, 9, opts).labels)).toEqual([0, 1, 2]);
  });

  test('deterministic for a seed; restarts find the better optimum', () => {
    const { points } = blobs([8, 8, 8, 8], 2, 2.5, 11);
    const K = linearKernel(points);
    const a = kernelKMeans(K, 4, { ...opts, seed: 5 });
    const b = kernelKMeans(K, 4, { ...opts, seed: 5 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    const one = kernelKMeans(K, 4, { ...opts, restarts: 1, seed: 5 });
    expect(a.objective).toBeLessThanOrEqual(one.objective + 1e-9);
  });

  test('infinite distances never share a cluster when K allows', () => {
    const d = [
      [0, 1, Infinity, Infinity],
      [1, 0, Infinity, Infinity],
      [Infinity, Infinity, 0, 1],
      [Infinity, Infinity, 1, 0],
    ];
    expect(Array.from(kernelKMeans(kernelFromDistances(d), 2, opts).labels)).toEqual([0, 0, 1, 1]);
  });
});

describe('kmeansAlong', () => {
  test('centres end at the lowest-score member of each cluster', () => {
    const { points, labels } = blobs([5, 6, 4], 4, 1, 21);
    const rng = createRng(2);
    const score = points.map(() => rng.next());
    const r = kmeansAlong(euclidean(points), score, 3, opts);
    expect(Array.from(r.labels)).toEqual(Array.from(canonicalLabels(labels)));
    r.centres.forEach((c, cl) => {
      const members = [...r.labels.keys()].filter((i) => r.labels[i] === cl);
      const lowest = members.reduce((a, b) => (score[b] < score[a] ? b : a));
      expect(c).toBe(lowest);
    });
  });

  test('is a fixed point: reassigning to the centres changes nothing', () => {
    const { points } = blobs([7, 7, 7], 3, 3, 4);
    const d = euclidean(points);
    const score = points.map((p) => p.reduce((s, x) => s + x * x, 0));
    const r = kmeansAlong(d, score, 3, opts);
    for (let i = 0; i < points.length; i++) {
      if (r.centres.includes(i)) continue;
      const nearest = r.centres.reduce((a, b) => (d[i][b] < d[i][a] ? b : a));
      expect(d[i][r.centres[r.labels[i]]]).toBeCloseTo(d[i][nearest], 12);
    }
  });

  test('follows the score, not the middle: a chain is owned by its start', () => {
    // Points on a line at 0..4, one cluster; the medoid would be 2, the lowest score is 0.
    const pts = [[0], [1], [2], [3], [4]];
    const r = kmeansAlong(euclidean(pts), [0, 1, 2, 3, 4], 1, opts);
    expect(r.centres).toEqual([0]);
    const rev = kmeansAlong(euclidean(pts), [4, 3, 2, 1, 0], 1, opts);
    expect(rev.centres).toEqual([4]);
  });

  test('deterministic for a seed', () => {
    const { points } = blobs([6, 6, 6], 2, 4, 9);
    const d = euclidean(points);
    const score = points.map((_, i) => i % 5);
    expect(kmeansAlong(d, score, 3, { ...opts, seed: 3 })).toEqual(kmeansAlong(d, score, 3, { ...opts, seed: 3 }));
  });
});

describe('kmeansAfter', () => {
  test('clusters, then hangs each cluster on its lowest-score member', () => {
    const { points, labels } = blobs([4, 5], 3, 1, 30);
    const score = points.map((_, i) => (i === 2 ? -1 : i === 7 ? -2 : i));
    const r = kmeansAfter(euclidean(points), score, 2, opts);
    expect(Array.from(r.labels)).toEqual(Array.from(canonicalLabels(labels)));
    expect(Array.from(r.parent)).toEqual([2, 2, -1, 2, 7, 7, 7, -1, 7]);
  });
});
