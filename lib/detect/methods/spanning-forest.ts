import { spanningForestMethod } from '../arborescence';
import type { MethodSpec } from './spec';

export const spanningForest: MethodSpec = {
  name: 'spanning-forest',
  description: 'undirected minimum spanning forest under τ, each family oriented as a whole by the score (no K)',
  run: ({ D, score, tau }) => ({ parent: spanningForestMethod(D, score, tau), rivalTau: tau, orientation: 'family', chosen: {}, warnings: [] }),
};
