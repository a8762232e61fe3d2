import { motherMethod } from '../mother';
import type { MethodSpec } from './spec';

export const mother: MethodSpec = {
  name: 'mother',
  description: 'MoTHer baseline: per-layer RMS ΔW distance + λ·kurtosis-direction penalty, Chu-Liu/Edmonds',
  // MoTHer's own choices: kurtosis with a fixed sign (kurtosis grows from parent to child).
  // The baseline as it was measured, every float tensor a weight: it scores higher with the
  // BatchNorm running statistics than without on PyTorch CNNs (npm run eval:torch).
  defaults: { score: 'kurtosis', scoreSign: 1, runningStats: 'compare' },
  run: ({ D, score, tau, options }) => ({ parent: motherMethod(D, score, tau, options.lambda), rivalTau: tau, orientation: 'edge', chosen: {}, warnings: [] }),
};
