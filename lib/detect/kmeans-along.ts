/**
 * kmeans-along: direction-aware k-medoids. Centres are real models; every model joins its
 * nearest centre by D, and every centre then moves to the lowest-score member of its cluster,
 * i.e. towards the family's ancestor instead of its middle. At the fixed point each centre is
 * the earliest model of its cluster and the parent of the others.
 */
import { createRng, weightedPick } from '../graph/rng';
import { canonicalLabels, type KMeansOptions } from './kmeans';

export interface KMeansAlongResult {
  labels: Int32Array;
  /** Model index of each cluster's centre (its parent), by label. */
  centres: number[];
  /** Σ D(model, its centre). */
  objective: number;
}

function finiteOr(d: number, far: number): number {
  return Number.isFinite(d) ? d : far;
}

function assign(dist: number[][], centres: number[], far: number): { labels: Int32Array; objective: number } {
  const n = dist.length;
  const labels = new Int32Array(n);
  let objective = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < centres.length; c++) if (finiteOr(dist[i][centres[c]], far) < finiteOr(dist[i][centres[best]], far)) best = c;
    // A centre always belongs to its own cluster, even when it duplicates another.
    const own = centres.indexOf(i);
    if (own >= 0) best = own;
    labels[i] = best;
    objective += finiteOr(dist[i][centres[best]], far);
  }
  return { labels, objective };
}

/** One restart from seeded centres to the fixed point (or a repeated state). */
function descend(dist: number[][], score: ArrayLike<number>, centres: number[], maxIter: number, far: number): KMeansAlongResult {
  const seen = new Set<string>();
  let state = assign(dist, centres, far);
  for (let iter = 0; iter < maxIter; iter++) {
    const next = centres.map((c, cl) => {
      let low = c;
      for (let i = 0; i < dist.length; i++) {
        if (state.labels[i] === cl && (score[i] < score[low] || (score[i] === score[low] && i < low))) low = i;
      }
      return low;
    });
    const key = next.join(',');
    if (next.every((c, i) => c === centres[i]) || seen.has(key)) break;
    seen.add(key);
    centres = next;
    state = assign(dist, centres, far);
  }
  return { labels: state.labels, centres, objective: state.objective };
}

/** k-medoids along the score; k-means++ seeding on D, the best of `restarts` runs by Σ D. */
export function kmeansAlong(dist: number[][], score: ArrayLike<number>, k: number, opts: KMeansOptions): KMeansAlongResult {
  const n = dist.length;
  let maxFinite = 0;
  for (const row of dist) for (const d of row) if (Number.isFinite(d) && d > maxFinite) maxFinite = d;
  const far = 10 * (maxFinite > 0 ? maxFinite : 1);
  k = Math.max(1, Math.min(k, n));
  const rng = createRng(opts.seed);
  let best: KMeansAlongResult | null = null;
  for (let r = 0; r < opts.restarts; r++) {
    const centres = [rng.int(n)];
    const nearest = Float64Array.from({ length: n }, (_, i) => finiteOr(dist[i][centres[0]], far) ** 2);
    while (centres.length < k) {
      let c = weightedPick(rng, nearest);
      if (centres.includes(c)) c = [...Array(n).keys()].find((i) => !centres.includes(i))!;
      centres.push(c);
      for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i], finiteOr(dist[i][c], far) ** 2);
    }
    const run = descend(dist, score, centres, opts.maxIter, far);
    if (best === null || run.objective < best.objective - 1e-12 * best.objective) best = run;
    if (k === 1 || k === n) break;
  }
  const labels = canonicalLabels(best!.labels);
  const centres = new Array<number>(k);
  best!.labels.forEach((l, i) => (centres[labels[i]] = best!.centres[l]));
  return { labels, centres, objective: best!.objective };
}
