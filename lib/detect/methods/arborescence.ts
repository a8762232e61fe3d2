import { arborescenceMethod } from '../arborescence';
import type { MethodSpec } from './spec';

export const arborescence: MethodSpec = {
  name: 'arborescence',
  description: 'edges a→b only where score(a) < score(b), weighted by D; Chu-Liu/Edmonds under a virtual root costing τ (multi-generation, no K)',
  run: ({ D, score, tau }) => ({ parent: arborescenceMethod(D, score, tau), rivalTau: tau, orientation: 'edge', chosen: {}, warnings: [] }),
};
