import { spectralClusterer } from '../spectral';
import { kmeansOptions, runClustering } from './clustering';
import type { MethodSpec } from './spec';

export const spectral: MethodSpec = {
  name: 'spectral',
  description: 'normalised-Laplacian spectral clustering on an affinity from D, a family per cluster, oriented inside',
  run: (ctx) => runClustering(ctx, { cluster: spectralClusterer(ctx.D, kmeansOptions(ctx)) }),
};
