import { dbscan as dbscanLabels } from '../dbscan';
import { forestFromClusters } from '../within';
import type { MethodSpec } from './spec';

export const dbscan: MethodSpec = {
  name: 'dbscan',
  description: 'DBSCAN on D (eps from the distance distribution), a family per cluster, oriented inside; noise points are roots',
  run({ D, score, tau, options: o }) {
    const warnings = o.k !== 'auto' ? ['dbscan finds the number of families itself; k ignored'] : [];
    const eps = o.eps ?? tau;
    const labels = dbscanLabels(D, eps, o.minPts);
    return { parent: forestFromClusters(labels, D, score, o.within), rivalTau: eps, orientation: o.within === 'tree' ? 'family' : 'edge', chosen: { epsValue: eps }, warnings };
  },
};
