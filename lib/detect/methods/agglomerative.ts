import { agglomerativeClusterer } from '../agglomerative';
import { runClustering } from './clustering';
import type { MethodSpec } from './spec';

export const agglomerative: MethodSpec = {
  name: 'agglomerative',
  description: 'average/Ward linkage on D, a family per cluster, oriented inside the cluster',
  run: (ctx) => runClustering(ctx, { cluster: agglomerativeClusterer(ctx.D, ctx.options.linkage) }),
};
