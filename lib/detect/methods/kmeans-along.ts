import { kmeansAlong as kmeansAlongClusters, type KMeansAlongResult } from '../kmeans-along';
import { kmeansOptions, runClustering } from './clustering';
import type { MethodSpec } from './spec';

export const kmeansAlong: MethodSpec = {
  name: 'kmeans-along',
  description: 'direction-aware k-medoids: each centre moves to the lowest-score member of its cluster; centres are parents',
  // Centres as parents of their clusters are the method's definition.
  defaults: { within: 'star' },
  run(ctx) {
    const { D, score, options: o } = ctx;
    const km = kmeansOptions(ctx);
    let along: KMeansAlongResult | null = null;
    return runClustering(ctx, {
      cluster(k) {
        along = kmeansAlongClusters(D, score, k, km);
        return along.labels;
      },
      // With star families, the k-medoids centres (the last clustering's) are the parents.
      familyTrees(labels) {
        if (o.within !== 'star' || along === null) return null;
        const { centres } = along as KMeansAlongResult;
        return Int32Array.from(labels, (l, v) => (centres[l] !== v && Number.isFinite(D[centres[l]][v]) ? centres[l] : -1));
      },
    });
  },
};
