/**
 * Choosing K, the number of families, for the clustering methods (`k: 'auto'`).
 *
 * - components: the connected groups left after the correlation gate and the τ cut; no
 *   clustering at all, and the lower bound for the other rules (a family never spans models
 *   that nothing relates).
 * - silhouette (Rousseeuw 1987) on D: K in [kMin, kMax] with the best mean silhouette; when
 *   even the best is below 0.5, short of what Kaufman & Rousseeuw call "a reasonable
 *   structure" (k-means splits of one Gaussian blob already reach 0.3–0.4), K = kMin rather
 *   than splitting a family for noise.
 * - gap (Tibshirani, Walther & Hastie 2001): log within-cluster dispersion against that of
 *   uniform references in the box of the data's principal axes (classical MDS of D); K by
 *   the "first SE max" rule (below). Unlike the silhouette it can answer K = 1.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { kernelFromDistances, kernelKMeans, linearKernel } from './kmeans';
import { createRng } from '../graph/rng';
import type { AutoKRule } from './options';

export type Clusterer = (k: number) => Int32Array;

function capped(dist: number[][], cap = 10): number[][] {
  let maxFinite = 0;
  for (const row of dist) for (const d of row) if (Number.isFinite(d) && d > maxFinite) maxFinite = d;
  const far = (maxFinite > 0 ? maxFinite : 1) * cap;
  return dist.map((row) => row.map((d) => (Number.isFinite(d) ? d : far)));
}

/** Mean silhouette of a labelling (singleton clusters score 0); NaN with fewer than 2 clusters. */
export function silhouette(dist: number[][], labels: ArrayLike<number>): number {
  const d = capped(dist);
  const n = d.length;
  const clusters = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = clusters.get(labels[i]);
    if (g) g.push(i);
    else clusters.set(labels[i], [i]);
  }
  if (clusters.size < 2) return NaN;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const own = clusters.get(labels[i])!;
    if (own.length === 1) continue;
    const a = own.reduce((s, j) => s + (j === i ? 0 : d[i][j]), 0) / (own.length - 1);
    let b = Infinity;
    for (const [label, members] of clusters) {
      if (label === labels[i]) continue;
      b = Math.min(b, members.reduce((s, j) => s + d[i][j], 0) / members.length);
    }
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return total / n;
}

/** Within-cluster sum of squares, Σ_r (1/(2 n_r)) Σ_{i,j∈r} D²_ij. */
export function withinDispersion(dist: number[][], labels: ArrayLike<number>): number {
  const d = capped(dist);
  const sums = new Map<number, { sq: number; size: number }>();
  for (let i = 0; i < d.length; i++) {
    const g = sums.get(labels[i]) ?? { sq: 0, size: 0 };
    g.size++;
    for (let j = 0; j < d.length; j++) if (labels[j] === labels[i]) g.sq += d[i][j] * d[i][j];
    sums.set(labels[i], g);
  }
  let w = 0;
  for (const g of sums.values()) w += g.sq / (2 * g.size);
  return w;
}

/** Classical MDS coordinates (rows) of D, one column per positive eigenvalue. */
export function mdsCoordinates(dist: number[][]): number[][] {
  const K = kernelFromDistances(dist);
  const evd = new EigenvalueDecomposition(new Matrix(K), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const top = Math.max(...values.map(Math.abs), 0);
  const cols = values.map((v, i) => [v, i]).filter(([v]) => v > 1e-10 * top).sort((x, y) => y[0] - x[0]);
  const V = evd.eigenvectorMatrix;
  return K.map((_, r) => cols.map(([v, c]) => V.get(r, c) * Math.sqrt(v)));
}

export interface KChoice {
  k: number;
  rule: AutoKRule;
  /** The criterion per K tried (silhouette or gap). */
  criterion: Record<number, number>;
}

export interface AutoKSettings {
  rule: AutoKRule;
  kMin: number;
  kMax: number;
  seed: number;
  restarts: number;
  maxIter: number;
  /** Reference draws of the gap statistic. */
  references?: number;
}

export function chooseK(dist: number[][], cluster: Clusterer, s: AutoKSettings): KChoice {
  const n = dist.length;
  const kMin = Math.max(1, Math.min(s.kMin, n));
  const kMax = Math.max(kMin, Math.min(s.kMax, n - 1));
  const criterion: Record<number, number> = {};
  if (s.rule === 'components' || kMax === kMin) return { k: kMin, rule: s.rule, criterion };
  if (s.rule === 'silhouette') {
    let best = kMin;
    let bestValue = -Infinity;
    for (let k = Math.max(2, kMin); k <= kMax; k++) {
      const value = silhouette(dist, cluster(k));
      criterion[k] = value;
      if (value > bestValue + 1e-12) {
        bestValue = value;
        best = k;
      }
    }
    return { k: bestValue >= 0.5 ? best : kMin, rule: s.rule, criterion };
  }
  const X = mdsCoordinates(dist);
  const dims = X[0]?.length ?? 0;
  const lo = Array.from({ length: dims }, (_, c) => Math.min(...X.map((r) => r[c])));
  const hi = Array.from({ length: dims }, (_, c) => Math.max(...X.map((r) => r[c])));
  const B = s.references ?? 10;
  const rng = createRng(s.seed ^ 0x5bd1e995);
  const gap: number[] = [];
  const sd: number[] = [];
  for (let k = kMin; k <= kMax + 1 && k <= n; k++) {
    const logW = Math.log(withinDispersion(dist, k === 1 ? new Int32Array(n) : cluster(k)));
    const refs: number[] = [];
    for (let b = 0; b < B; b++) {
      const pts = Array.from({ length: n }, () => lo.map((l, c) => l + rng.next() * (hi[c] - l)));
      const run = kernelKMeans(linearKernel(pts), k, { seed: s.seed + 7919 * b + k, restarts: s.restarts, maxIter: s.maxIter });
      refs.push(Math.log(Math.max(run.objective, 1e-300)));
    }
    const mean = refs.reduce((a, x) => a + x, 0) / B;
    const std = Math.sqrt(refs.reduce((a, x) => a + (x - mean) ** 2, 0) / B);
    gap.push(mean - logW);
    sd.push(std * Math.sqrt(1 + 1 / B));
    criterion[k] = mean - logW;
  }
  // Maechler's "firstSEmax" (R cluster::clusGap's default): the first local maximum of the gap,
  // then the smallest K within one standard error of it. Tibshirani's original rule (first K
  // with Gap(K) ≥ Gap(K+1) − s(K+1)) stops at K = 1 whenever clusters sit at the corners of
  // the reference box: the first split then helps little and the references' spread is wide.
  let top = gap.length - 1;
  for (let i = 0; i + 1 < gap.length; i++) {
    if (gap[i] >= gap[i + 1]) {
      top = i;
      break;
    }
  }
  top = Math.min(top, kMax - kMin);
  let pick = top;
  while (pick > 0 && gap[pick - 1] >= gap[top] - sd[top]) pick--;
  return { k: kMin + pick, rule: s.rule, criterion };
}
