/**
 * Spectral clustering (Ng-Jordan-Weiss) on an affinity built from D with local scaling
 * (Zelnik-Manor & Perona): W_ij = exp(−D_ij² / (σ_i σ_j)), σ_i = D to the i-th model's 7th
 * nearest neighbour. Local scaling matters here: a family of long fine-tunes and a family of
 * short ones have very different internal distances. The K leading eigenvectors of
 * D^-½ W D^-½, rows normalised, are clustered by k-means.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { kernelKMeans, linearKernel, canonicalLabels, type KMeansOptions } from './kmeans';

function localScales(dist: number[][]): number[] {
  const n = dist.length;
  const pos: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (Number.isFinite(dist[i][j]) && dist[i][j] > 0) pos.push(dist[i][j]);
  pos.sort((a, b) => a - b);
  const fallback = pos.length > 0 ? pos[Math.floor(pos.length / 2)] : 1;
  return dist.map((row, i) => {
    const near = row.filter((d, j) => j !== i && Number.isFinite(d)).sort((a, b) => a - b);
    const s = near.length > 0 ? near[Math.min(7, near.length) - 1] : 0;
    return s > 0 ? s : fallback;
  });
}

export function affinity(dist: number[][]): number[][] {
  const sigma = localScales(dist);
  return dist.map((row, i) => row.map((d, j) => (i === j || !Number.isFinite(d) ? 0 : Math.exp(-(d * d) / (sigma[i] * sigma[j])))));
}

export interface SpectralEmbedding {
  n: number;
  /** Models with no affinity to any other: each a cluster by itself. */
  isolated: number[];
  /** The others, and per other its eigenvector coordinates, leading eigenvalue first. */
  rest: number[];
  coords: number[][];
}

/** The eigen decomposition, once per detection: auto-K reuses it for every K it tries. */
export function spectralEmbedding(dist: number[][]): SpectralEmbedding {
  const n = dist.length;
  const W = affinity(dist);
  const degree = W.map((row) => row.reduce((a, b) => a + b, 0));
  const isolated: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < n; i++) (degree[i] > 1e-300 ? rest : isolated).push(i);
  const m = rest.length;
  if (m === 0) return { n, isolated, rest, coords: [] };
  const norm = new Matrix(m, m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) norm.set(a, b, W[rest[a]][rest[b]] / Math.sqrt(degree[rest[a]] * degree[rest[b]]));
  const evd = new EigenvalueDecomposition(norm, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => [v, i]).sort((x, y) => y[0] - x[0] || x[1] - y[1]).map((p) => p[1]);
  const V = evd.eigenvectorMatrix;
  return { n, isolated, rest, coords: rest.map((_, a) => order.map((c) => V.get(a, c))) };
}

/** Clusters from the embedding: isolated models alone, the rest share what K is left. */
export function spectralClusters(e: SpectralEmbedding, k: number, opts: KMeansOptions): Int32Array {
  const labels = new Int32Array(e.n).fill(-1);
  e.isolated.forEach((v, i) => (labels[v] = i));
  const next = e.isolated.length;
  if (e.rest.length > 0) {
    const kRest = Math.max(1, Math.min(e.rest.length, k - next));
    const points = e.coords.map((row) => {
      const lead = row.slice(0, kRest);
      const len = Math.hypot(...lead);
      return len > 0 ? lead.map((x) => x / len) : lead;
    });
    const sub = kernelKMeans(linearKernel(points), kRest, opts).labels;
    e.rest.forEach((v, a) => (labels[v] = next + sub[a]));
  }
  return canonicalLabels(labels);
}

/** Labels for any K: the embedding is computed once and clustered at each K. */
export function spectralClusterer(dist: number[][], opts: KMeansOptions): (k: number) => Int32Array {
  let embedding: SpectralEmbedding | null = null;
  return (k) => {
    embedding ??= spectralEmbedding(dist);
    return spectralClusters(embedding, k, opts);
  };
}

export function spectral(dist: number[][], k: number, opts: KMeansOptions): Int32Array {
  return spectralClusterer(dist, opts)(k);
}
