/**
 * Kernel k-means. With a kernel K, the squared distance of point i to the mean of cluster C in
 * feature space is K_ii − (2/|C|) Σ_{j∈C} K_ij + (1/|C|²) Σ_{j,l∈C} K_jl, so clustering needs
 * only the M×M matrix: k-means on the weights themselves without touching them again.
 */
import { createRng, weightedPick, type Mulberry32Rng } from '../graph/rng';
import { forestFromClusters } from './within';

export interface KMeansOptions {
  restarts: number;
  seed: number;
  maxIter: number;
}

export interface KMeansResult {
  labels: Int32Array;
  /** Σ of squared feature-space distances to the cluster means (lower is better). */
  objective: number;
}

/**
 * The kernel whose induced squared distances are `dist`²: −½·J·D²·J with J the centring
 * matrix (classical MDS). When D comes from the Gram of one weighted inner product (metric
 * euclidean, normalisation none/per-element, every pair sharing the same tensors) this is
 * exactly the centred Gram, and k-means is invariant to centring: kernel k-means on it is
 * kernel k-means on the Gram. For other D it is the best Euclidean stand-in. Infinite
 * distances (unrelated models) are replaced by `cap` times the largest finite one, far
 * enough that no cluster spans two unrelated groups unless K forces it.
 */
export function kernelFromDistances(dist: number[][], cap = 10): number[][] {
  const n = dist.length;
  let maxFinite = 0;
  for (const row of dist) for (const d of row) if (Number.isFinite(d) && d > maxFinite) maxFinite = d;
  const far = (maxFinite > 0 ? maxFinite : 1) * cap;
  const d2 = dist.map((row) => row.map((d) => (Number.isFinite(d) ? d * d : far * far)));
  const rowMean = d2.map((row) => row.reduce((a, b) => a + b, 0) / n);
  const all = rowMean.reduce((a, b) => a + b, 0) / n;
  return d2.map((row, i) => row.map((v, j) => -0.5 * (v - rowMean[i] - rowMean[j] + all)));
}

/** The linear kernel X·Xᵀ of points given as rows (k-means on vectors via the same code). */
export function linearKernel(points: number[][]): number[][] {
  return points.map((a) => points.map((b) => a.reduce((s, x, i) => s + x * b[i], 0)));
}

function pointDistance(K: number[][], i: number, j: number): number {
  return Math.max(0, K[i][i] + K[j][j] - 2 * K[i][j]);
}

/** k-means++: each next seed drawn with probability ∝ squared distance to the nearest seed. */
function seedLabels(K: number[][], k: number, rng: Mulberry32Rng): Int32Array {
  const n = K.length;
  const seeds = [rng.int(n)];
  const nearest = Float64Array.from({ length: n }, (_, i) => pointDistance(K, i, seeds[0]));
  while (seeds.length < k) {
    const s = weightedPick(rng, nearest);
    seeds.push(s);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i], pointDistance(K, i, s));
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    seeds.forEach((s, c) => {
      const d = pointDistance(K, i, s);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    });
    labels[i] = best;
  }
  seeds.forEach((s, c) => (labels[s] = c));
  return labels;
}

/**
 * Squared distances of every point to every cluster mean, into `out` (n×k, row-major).
 * O(n²) per call; flat buffers because this is the inner loop of auto-K and restarts.
 */
function distancesToMeans(K: number[][], labels: Int32Array, k: number, out: Float64Array, size: Float64Array, within: Float64Array): void {
  const n = K.length;
  size.fill(0);
  within.fill(0);
  out.fill(0);
  for (let i = 0; i < n; i++) size[labels[i]]++;
  for (let i = 0; i < n; i++) {
    const row = K[i];
    const base = i * k;
    for (let j = 0; j < n; j++) out[base + labels[j]] += row[j];
  }
  for (let j = 0; j < n; j++) within[labels[j]] += out[j * k + labels[j]];
  for (let i = 0; i < n; i++) {
    const base = i * k;
    for (let c = 0; c < k; c++) {
      out[base + c] = size[c] > 0 ? Math.max(0, K[i][i] - (2 * out[base + c]) / size[c] + within[c] / (size[c] * size[c])) : Infinity;
    }
  }
}

function lloyd(K: number[][], k: number, labels: Int32Array, maxIter: number): KMeansResult {
  const n = K.length;
  const d = new Float64Array(n * k);
  const sizeBuf = new Float64Array(k);
  const within = new Float64Array(k);
  const next = new Int32Array(n);
  const size = new Int32Array(k);
  for (let iter = 0; iter < maxIter; iter++) {
    distancesToMeans(K, labels, k, d, sizeBuf, within);
    let changed = false;
    for (let i = 0; i < n; i++) {
      // Staying put on ties prevents flip-flopping between equally good clusters.
      let best = labels[i];
      for (let c = 0; c < k; c++) if (d[i * k + c] < d[i * k + best] - 1e-12 * (1 + d[i * k + best])) best = c;
      next[i] = best;
      if (best !== labels[i]) changed = true;
    }
    // An emptied cluster restarts at the point worst served by its own cluster.
    size.fill(0);
    for (let i = 0; i < n; i++) size[next[i]]++;
    for (let c = 0; c < k; c++) {
      if (size[c] > 0) continue;
      let worst = -1;
      let worstD = -1;
      for (let i = 0; i < n; i++) {
        if (size[next[i]] > 1 && d[i * k + next[i]] > worstD) {
          worstD = d[i * k + next[i]];
          worst = i;
        }
      }
      if (worst < 0) break;
      size[next[worst]]--;
      next[worst] = c;
      size[c] = 1;
      changed = true;
    }
    labels.set(next);
    if (!changed) break;
  }
  distancesToMeans(K, labels, k, d, sizeBuf, within);
  let objective = 0;
  for (let i = 0; i < n; i++) objective += d[i * k + labels[i]];
  return { labels, objective };
}

/** Relabels clusters in order of their first member, so equal partitions compare equal. */
export function canonicalLabels(labels: ArrayLike<number>): Int32Array {
  const map = new Map<number, number>();
  return Int32Array.from(labels as ArrayLike<number>, (l) => {
    if (!map.has(l)) map.set(l, map.size);
    return map.get(l)!;
  });
}

/** Kernel k-means with k-means++ seeding; the best of `restarts` seeded runs. */
export function kernelKMeans(K: number[][], k: number, opts: KMeansOptions): KMeansResult {
  const n = K.length;
  if (k >= n) return { labels: Int32Array.from({ length: n }, (_, i) => i), objective: 0 };
  if (k <= 1) return { labels: new Int32Array(n), objective: lloyd(K, 1, new Int32Array(n), 1).objective };
  const rng = createRng(opts.seed);
  let best: KMeansResult | null = null;
  for (let r = 0; r < opts.restarts; r++) {
    const run = lloyd(K, k, seedLabels(K, k, rng), opts.maxIter);
    if (best === null || run.objective < best.objective - 1e-12 * Math.abs(best.objective)) best = run;
  }
  return { labels: canonicalLabels(best!.labels), objective: best!.objective };
}

/**
 * kmeans-after (the paper's KMeans integration): kernel k-means on the kernel of D, then in
 * each cluster the lowest-score member is the parent of all the others.
 */
/** Labels for any K on one distance matrix; the kernel is built once and shared by every K. */
export function kmeansAfterClusterer(dist: number[][], opts: KMeansOptions): (k: number) => Int32Array {
  let kernel: number[][] | null = null;
  return (k) => {
    kernel ??= kernelFromDistances(dist);
    return kernelKMeans(kernel, k, opts).labels;
  };
}

/** The kmeans-after method for a fixed K, with star families (what detect runs for within 'star'). */
export function kmeansAfter(dist: number[][], score: ArrayLike<number>, k: number, opts: KMeansOptions): { labels: Int32Array; parent: Int32Array } {
  const labels = kmeansAfterClusterer(dist, opts)(k);
  return { labels, parent: forestFromClusters(labels, dist, score, 'star') };
}
