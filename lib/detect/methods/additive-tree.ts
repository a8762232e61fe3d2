import { InvalidArgumentError } from '../../errors';
import { additiveTreeMethod } from '../additive-pipeline';
import type { MethodSpec } from './spec';

export const additiveTree: MethodSpec = {
  name: 'additive-tree',
  description: 'per family, the tree whose path sums best explain all squared distances, rooted by an attachment prior and per-tensor direction votes (default; multi-generation, no K)',
  // Squared distances that add over tensors: whole-model Euclidean (every parameter one term).
  // Families from the correlation gate alone (tau none): inside a family, distances of
  // fine-tunes at learning rates 0.01 and 0.001 differ by a factor ~4, and the gap rule split
  // a measured family (docs/detect.md).
  defaults: { distanceNormalize: 'none', distanceCombine: 'sum', tau: 'none' },
  validate(o) {
    if (o.distanceNormalize === 'rms') {
      throw new InvalidArgumentError('E_INVALID_ARG', 'additive-tree needs squared distances that add up: distanceNormalize none, per-element or relative (not rms)');
    }
  },
  run(ctx) {
    const { D, tau, score, options: o } = ctx;
    const run = additiveTreeMethod(D, ctx.squaredOf, tau, score, ctx.signals(), o.rootPrior, o.directionEvidence, o.treeModel, o.familyFlip !== null ? { flip: o.familyFlip, ...(o.familyNoise !== null ? { noise: o.familyNoise } : {}) } : o.familyRateStrength !== null ? { strength: o.familyRateStrength } : null, o.evidenceTemper, ctx.tinyStep, o.unchangedTensors === 'connect' ? ctx.tensorChangesOf : undefined, o.nearTwins, o.forgetting, ctx.tensorDistancesOf, o.tensorMajority, o.confidenceRates);
    return {
      parent: run.parent,
      rivalTau: tau,
      orientation: 'family',
      direction: run.direction,
      chosen: { directionWeights: run.weights, emRounds: run.rounds, driftCorrelation: run.rho },
      warnings: [],
    };
  },
};
