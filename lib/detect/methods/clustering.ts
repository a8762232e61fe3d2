/**
 * What the clustering methods share: K (given, or chosen by autoK between the groups the
 * gate and τ leave and a cap), the final labelling, and turning clusters into family trees
 * (the `within` option). Each clustering method only says how to label for a given K.
 */
import { chooseK, type Clusterer } from '../autok';
import { forestFromClusters } from '../within';
import type { MethodContext, MethodRun } from './spec';

export interface Clustering {
  /** Labels for K clusters; may cache work shared across K. */
  cluster: Clusterer;
  /** A method's own family trees for the final labels, or null for forestFromClusters. */
  familyTrees?(labels: Int32Array): Int32Array | null;
}

export function kmeansOptions(ctx: MethodContext): { seed: number; restarts: number; maxIter: number } {
  return { seed: ctx.options.seed, restarts: ctx.options.restarts, maxIter: ctx.options.maxIter };
}

export function runClustering(ctx: MethodContext, clustering: Clustering): MethodRun {
  const { D, score, options: o } = ctx;
  const n = D.length;
  const warnings: string[] = [];
  const chosen: Record<string, unknown> = {};
  let k: number;
  if (n <= 1) k = n;
  else if (o.k === 'auto') {
    const kMin = ctx.tauComponents;
    // Families have two or more members, so K ≤ n/2 beyond the unrelated singletons; the cap
    // of kMin + 20 bounds the cost of trying every K (set kMax for more).
    const kMax = o.kMax ?? Math.min(n - 1, Math.max(kMin, Math.ceil(n / 2)), kMin + 20);
    const choice = chooseK(D, clustering.cluster, { rule: o.autoK, kMin, kMax, seed: o.seed, restarts: o.restarts, maxIter: o.maxIter });
    k = choice.k;
    chosen.kCriterion = choice.criterion;
  } else {
    k = Math.min(o.k, n);
    if (k < ctx.relatedComponents) warnings.push(`k = ${k} is below the ${ctx.relatedComponents} groups of models that nothing relates; they stay separate families`);
  }
  chosen.kValue = k;
  const labels = n === 0 ? new Int32Array(0) : clustering.cluster(Math.max(1, k));
  const own = clustering.familyTrees?.(labels) ?? null;
  if (own !== null) return { parent: own, rivalTau: Infinity, orientation: 'edge', chosen, warnings };
  return { parent: forestFromClusters(labels, D, score, o.within), rivalTau: Infinity, orientation: o.within === 'tree' ? 'family' : 'edge', chosen, warnings };
}
