import { kmeansAfterClusterer } from '../kmeans';
import { kmeansOptions, runClustering } from './clustering';
import type { MethodSpec } from './spec';

export const kmeansAfter: MethodSpec = {
  name: 'kmeans-after',
  description: 'kernel k-means on the Gram, then the lowest-score member of each cluster is the parent of the others',
  // Star families are the method's definition (the paper's kmeans-after).
  defaults: { within: 'star' },
  run: (ctx) => runClustering(ctx, { cluster: kmeansAfterClusterer(ctx.D, kmeansOptions(ctx)) }),
};
