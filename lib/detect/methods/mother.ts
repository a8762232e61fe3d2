import { motherMethod } from '../mother';
import type { MethodSpec } from './spec';

export const mother: MethodSpec = {
  name: 'mother',
  description: 'MoTHer baseline: per-layer RMS ΔW distance + λ·kurtosis-direction penalty, Chu-Liu/Edmonds',
  // MoTHer's own choices: kurtosis with a fixed sign (kurtosis grows from parent to child).
  defaults: { score: 'kurtosis', scoreSign: 1 },
  run: ({ D, score, tau, options }) => ({ parent: motherMethod(D, score, tau, options.lambda), rivalTau: tau, orientation: 'edge', chosen: {}, warnings: [] }),
};
