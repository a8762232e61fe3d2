/**
 * Dispatch from a method name to its algorithm, on the reduced problem (one representative
 * per duplicate group): linking distances D (Infinity = never linked), oriented scores
 * (lower = earlier) and τ. Also resolves K for the clustering methods.
 */
import type { ResolvedOptions } from './options';
import { arborescenceMethod, spanningForestMethod } from './arborescence';
import { motherMethod } from './mother';
import { kernelFromDistances, kernelKMeans } from './kmeans';
import { kmeansAlong } from './kmeans-along';
import { agglomerativeMerges, cutMerges, type Merge } from './agglomerative';
import { spectralClusters, spectralEmbedding, type SpectralEmbedding } from './spectral';
import { dbscan } from './dbscan';
import { chooseK, type Clusterer } from './autok';
import { forestFromClusters } from './within';
import { additiveTreeMethod } from './additive-method';
import type { DirectionSignal } from './root-posterior';

export interface MethodRun {
  parent: Int32Array;
  /** τ as the "become a root" rival in pairing confidences (Infinity when the method has none). */
  rivalTau: number;
  /** How directions were decided: per edge by the score, or per family as a whole. */
  orientation: 'edge' | 'family';
  /** Values the method chose, recorded in DetectionResult.options. */
  chosen: Record<string, unknown>;
  /** Per node with a parent: a direction confidence the method computed itself. */
  direction?: Float64Array;
}

/** What only some methods need: squared distances and per-tensor direction signals. */
export interface MethodInputs {
  /** Squared distances among a group of models (indices as in D), row-major. */
  squaredOf: (models: number[]) => Float64Array;
  signals: DirectionSignal[];
}

export function runMethod(
  o: ResolvedOptions,
  D: number[][],
  score: number[],
  tau: number,
  tauComponents: number,
  relatedComponents: number,
  warnings: string[],
  inputs?: MethodInputs,
): MethodRun {
  const n = D.length;
  const km = { seed: o.seed, restarts: o.restarts, maxIter: o.maxIter };
  const byWithin = o.within === 'tree' ? 'family' : 'edge';
  switch (o.method) {
    case 'additive-tree': {
      const squaredOf = inputs?.squaredOf ?? ((f: number[]) => Float64Array.from(f.flatMap((a) => f.map((b) => D[a][b] ** 2))));
      const run = additiveTreeMethod(D, squaredOf, tau, score, inputs?.signals ?? [], o.rootPrior, o.directionEvidence, o.treeModel);
      return { parent: run.parent, rivalTau: tau, orientation: 'family', direction: run.direction, chosen: { directionWeights: run.weights, emRounds: run.rounds, driftCorrelation: run.rho } };
    }
    case 'arborescence':
      return { parent: arborescenceMethod(D, score, tau), rivalTau: tau, orientation: 'edge', chosen: {} };
    case 'spanning-forest':
      return { parent: spanningForestMethod(D, score, tau), rivalTau: tau, orientation: 'family', chosen: {} };
    case 'mother':
      return { parent: motherMethod(D, score, tau, o.lambda), rivalTau: tau, orientation: 'edge', chosen: {} };
    case 'dbscan': {
      if (o.k !== 'auto') warnings.push('dbscan finds the number of families itself; k ignored');
      const eps = o.eps ?? tau;
      const labels = dbscan(D, eps, o.minPts);
      return { parent: forestFromClusters(labels, D, score, o.within), rivalTau: eps, orientation: byWithin, chosen: { epsValue: eps } };
    }
    default:
      break;
  }
  let kernel: number[][] | null = null;
  let embedding: SpectralEmbedding | null = null;
  let merges: Merge[] | null = null;
  let along: ReturnType<typeof kmeansAlong> | null = null;
  const cluster: Clusterer = (k) => {
    switch (o.method) {
      case 'kmeans-after':
        kernel ??= kernelFromDistances(D);
        return kernelKMeans(kernel, k, km).labels;
      case 'kmeans-along':
        along = kmeansAlong(D, score, k, km);
        return along.labels;
      case 'agglomerative':
        merges ??= agglomerativeMerges(D, o.linkage);
        return cutMerges(merges, n, k);
      default:
        embedding ??= spectralEmbedding(D);
        return spectralClusters(embedding, k, km);
    }
  };
  let k: number;
  const chosen: Record<string, unknown> = {};
  if (n <= 1) k = n;
  else if (o.k === 'auto') {
    const kMin = tauComponents;
    // Families have two or more members, so K ≤ n/2 beyond the unrelated singletons; the cap
    // of kMin + 20 bounds the cost of trying every K (set kMax for more).
    const kMax = o.kMax ?? Math.min(n - 1, Math.max(kMin, Math.ceil(n / 2)), kMin + 20);
    const choice = chooseK(D, cluster, { rule: o.autoK, kMin, kMax, seed: o.seed, restarts: o.restarts, maxIter: o.maxIter });
    k = choice.k;
    chosen.kCriterion = choice.criterion;
  } else {
    k = Math.min(o.k, n);
    if (k < relatedComponents) warnings.push(`k = ${k} is below the ${relatedComponents} groups of models that nothing relates; they stay separate families`);
  }
  chosen.kValue = k;
  const labels = n === 0 ? new Int32Array(0) : cluster(Math.max(1, k));
  if (o.method === 'kmeans-along' && o.within === 'star' && along !== null) {
    const { centres } = along as ReturnType<typeof kmeansAlong>;
    const parent = Int32Array.from(labels, (l, v) => (centres[l] !== v && Number.isFinite(D[centres[l]][v]) ? centres[l] : -1));
    return { parent, rivalTau: Infinity, orientation: 'edge', chosen };
  }
  return { parent: forestFromClusters(labels, D, score, o.within), rivalTau: Infinity, orientation: byWithin, chosen };
}
