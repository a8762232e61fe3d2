/**
 * The synthetic family sets of the studies (scripts/study-detect.ts, and eval:regimes with
 * --synthetic): families grown by perturbation (test/helpers/synthetic-scan.ts), with the
 * score left noisy (monotone 'none'), in shapes the trained zoos lack (chains, deeper trees)
 * and with correlated sibling drifts.
 */
import type { ZooSpec } from '../test/helpers/synthetic-scan';

export const SYNTHETIC: { name: string; spec: Omit<ZooSpec, 'seed'> }[] = [
  { name: 'synthetic stars', spec: { families: 5, depth: 1, branching: 4, monotone: 'none', fineTuneScale: 0.3 } },
  { name: 'synthetic 3 generations', spec: { families: 4, depth: 2, branching: [2, 2], monotone: 'none', fineTuneScale: 0.3 } },
  { name: 'synthetic chains', spec: { families: 5, depth: 4, branching: 1, monotone: 'none', fineTuneScale: 0.3, decay: 1 } },
  {
    name: 'synthetic correlated, spread',
    spec: { families: 5, depth: 2, branching: [4, 1], monotone: 'none', fineTuneScale: 0.3, decay: 1, siblingCorrelation: 0.15, scaleSpread: 3 },
  },
];
