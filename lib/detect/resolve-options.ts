/**
 * resolveOptions: validates DetectOptions and fills every default (options.ts, then the
 * method's own from its spec); the resolved set is what DetectionResult.options records.
 */
import { InvalidArgumentError } from '../errors';
import { validateDirectionSignals } from './direction-signals';
import { methodSpec, METHOD_CHOICES, type MethodName } from './methods/registry';
import { RUNNING_STATS } from './running-stats';
import { UNCHANGED_TENSORS } from './unchanged-tensors';
import { NEAR_TWINS } from './near-twins';
import { FORGETTING } from './forgetting';
import { TENSOR_MAJORITY } from './tensor-majority';
import {
  AUTO_K_RULES, COMBINES, DEFAULT_METHOD, DEFAULTS, DIRECTION_EVIDENCES, DISTANCE_METRICS, DISTANCE_NORMALIZES, LINKAGES,
  CONFIDENCE_RATES, ROOT_PRIORS, SCORE_KINDS, SCORE_NORMALIZES, SCORE_TENSORS, TAU_RULES, TREE_MODELS, WITHINS,
  type DetectOptions, type ResolvedOptions, type ScoreSign, type TauRule, type TensorPattern,
} from './options';

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError('E_INVALID_ARG', `${name} must be one of ${allowed.join(', ')} (got ${String(value)})`);
  }
  return value as T;
}

function positive(name: string, value: unknown, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InvalidArgumentError('E_INVALID_ARG', `${name} must be a positive ${integer ? 'integer' : 'number'} (got ${String(value)})`);
  }
  return value;
}

/** A relative-step threshold (tiny-step.ts): in (0, 1), or null for off. */
function ratioOrNull(name: string, x: unknown): number | null {
  if (x !== null && (typeof x !== 'number' || !(x > 0 && x < 1))) throw new InvalidArgumentError('E_INVALID_ARG', `${name} must be in (0, 1) or null (got ${String(x)})`);
  return x;
}

function patterns(name: string, value: TensorPattern | TensorPattern[] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((p) => {
    const source = p instanceof RegExp ? p.source : p;
    try {
      new RegExp(source);
    } catch (err) {
      throw new InvalidArgumentError('E_INVALID_ARG', `${name}: invalid regular expression ${JSON.stringify(source)}`, { cause: err });
    }
    return source;
  });
}

export function resolveOptions(opts: DetectOptions = {}): ResolvedOptions {
  const method = oneOf('method', opts.method ?? DEFAULT_METHOD, METHOD_CHOICES) as MethodName;
  const spec = methodSpec(method);
  const d = { ...DEFAULTS, ...spec.defaults };
  const distanceNormalize = oneOf('distanceNormalize', opts.distanceNormalize ?? d.distanceNormalize, DISTANCE_NORMALIZES);
  const score = oneOf('score', opts.score ?? d.score, SCORE_KINDS);
  let k: number | 'auto' = d.k;
  if (opts.k !== undefined && opts.k !== 'auto') k = positive('k', opts.k, true);
  let tau: number | TauRule = d.tau;
  if (typeof opts.tau === 'number') {
    if (!(opts.tau > 0)) throw new InvalidArgumentError('E_INVALID_ARG', `tau must be positive (got ${opts.tau})`);
    tau = opts.tau;
  } else if (opts.tau !== undefined) tau = oneOf('tau', opts.tau, TAU_RULES);
  // Kurtosis flips sign between vision nets and LLMs, so its sign is chosen from the trees;
  // fake-init and norm grow with gradient steps.
  let scoreSign: ScoreSign = d.scoreSign ?? (score === 'kurtosis' ? 'auto' : 1);
  if (opts.scoreSign !== undefined) {
    if (opts.scoreSign !== 1 && opts.scoreSign !== -1 && opts.scoreSign !== 'auto') {
      throw new InvalidArgumentError('E_INVALID_ARG', `scoreSign must be 1, -1 or 'auto' (got ${String(opts.scoreSign)})`);
    }
    scoreSign = opts.scoreSign;
  }
  let minCorrelation: number | null = d.minCorrelation;
  if (opts.minCorrelation !== undefined) {
    if (opts.minCorrelation !== null && (typeof opts.minCorrelation !== 'number' || !(opts.minCorrelation >= -1 && opts.minCorrelation <= 1))) {
      throw new InvalidArgumentError('E_INVALID_ARG', `minCorrelation must be in [-1, 1] or null (got ${String(opts.minCorrelation)})`);
    }
    minCorrelation = opts.minCorrelation;
  }
  let mergeRatio: number | null = d.mergeRatio;
  if (opts.mergeRatio !== undefined) {
    if (opts.mergeRatio !== null && (typeof opts.mergeRatio !== 'number' || !(opts.mergeRatio > 0 && opts.mergeRatio < 1))) {
      throw new InvalidArgumentError('E_INVALID_ARG', `mergeRatio must be in (0, 1) or null (got ${String(opts.mergeRatio)})`);
    }
    mergeRatio = opts.mergeRatio;
  }
  const seed = opts.seed ?? d.seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new InvalidArgumentError('E_INVALID_ARG', `seed must be a number (got ${String(seed)})`);
  const resolved: ResolvedOptions = {
    method,
    k,
    autoK: oneOf('autoK', opts.autoK ?? d.autoK, AUTO_K_RULES),
    kMax: opts.kMax === undefined ? d.kMax : positive('kMax', opts.kMax, true),
    score,
    scoreNormalize: oneOf('scoreNormalize', opts.scoreNormalize ?? d.scoreNormalize, SCORE_NORMALIZES),
    scoreCombine: oneOf('scoreCombine', opts.scoreCombine ?? d.scoreCombine, COMBINES),
    // Kurtosis is a statistic of weight matrices; biases and norms only add noise to it.
    scoreTensors: oneOf('scoreTensors', opts.scoreTensors ?? d.scoreTensors ?? (score === 'kurtosis' ? 'matrices' : 'all'), SCORE_TENSORS),
    scoreSign,
    distance: oneOf('distance', opts.distance ?? d.distance, DISTANCE_METRICS),
    distanceNormalize,
    distanceCombine: oneOf('distanceCombine', opts.distanceCombine ?? d.distanceCombine, COMBINES),
    tau,
    tauMinRatio: opts.tauMinRatio === undefined ? d.tauMinRatio : positive('tauMinRatio', opts.tauMinRatio, false),
    minCorrelation,
    include: patterns('include', opts.include),
    exclude: patterns('exclude', opts.exclude),
    seed,
    restarts: opts.restarts === undefined ? d.restarts : positive('restarts', opts.restarts, true),
    maxIter: opts.maxIter === undefined ? d.maxIter : positive('maxIter', opts.maxIter, true),
    linkage: oneOf('linkage', opts.linkage ?? d.linkage, LINKAGES),
    within: oneOf('within', opts.within ?? d.within, WITHINS),
    eps: opts.eps === undefined ? d.eps : positive('eps', opts.eps, false),
    minPts: opts.minPts === undefined ? d.minPts : positive('minPts', opts.minPts, true),
    lambda: opts.lambda === undefined ? d.lambda : (() => {
      if (typeof opts.lambda !== 'number' || !(opts.lambda >= 0)) throw new InvalidArgumentError('E_INVALID_ARG', `lambda must be ≥ 0 (got ${String(opts.lambda)})`);
      return opts.lambda;
    })(),
    rootPrior: oneOf('rootPrior', opts.rootPrior ?? d.rootPrior, ROOT_PRIORS),
    directionEvidence: oneOf('directionEvidence', opts.directionEvidence ?? d.directionEvidence, DIRECTION_EVIDENCES),
    treeModel: oneOf('treeModel', opts.treeModel ?? d.treeModel, TREE_MODELS),
    directionSignals: validateDirectionSignals(opts.directionSignals ?? d.directionSignals),
    familyRateStrength: (() => {
      const x = opts.familyRateStrength === undefined ? d.familyRateStrength : opts.familyRateStrength;
      if (x !== null && (typeof x !== 'number' || !(x > 0 && Number.isFinite(x)))) throw new InvalidArgumentError('E_INVALID_ARG', `familyRateStrength must be a positive number or null (got ${String(x)})`);
      return x;
    })(),
    familyFlip: (() => {
      const x = opts.familyFlip === undefined ? d.familyFlip : opts.familyFlip;
      if (x !== null && (typeof x !== 'number' || !(x > 0 && x < 0.5))) throw new InvalidArgumentError('E_INVALID_ARG', `familyFlip must be in (0, 0.5) or null (got ${String(x)})`);
      return x;
    })(),
    familyNoise: (() => {
      const x = opts.familyNoise === undefined ? d.familyNoise : opts.familyNoise;
      const flip = opts.familyFlip === undefined ? d.familyFlip : opts.familyFlip;
      if (x !== null && (typeof x !== 'number' || !(x > 0 && x + (flip ?? 0) < 1))) throw new InvalidArgumentError('E_INVALID_ARG', `familyNoise must be in (0, 1 − familyFlip) or null (got ${String(x)})`);
      return x;
    })(),
    evidenceTemper: (() => {
      const x = opts.evidenceTemper ?? d.evidenceTemper;
      if (typeof x !== 'number' || !(x > 0 && x <= 1)) throw new InvalidArgumentError('E_INVALID_ARG', `evidenceTemper must be in (0, 1] (got ${String(x)})`);
      return x;
    })(),
    fakeInitAbstain: (() => {
      const x = opts.fakeInitAbstain === undefined ? d.fakeInitAbstain : opts.fakeInitAbstain;
      if (x !== null && (typeof x !== 'number' || !(x > 0))) throw new InvalidArgumentError('E_INVALID_ARG', `fakeInitAbstain must be a positive number or null (got ${String(x)})`);
      return x;
    })(),
    tinyStep: ratioOrNull('tinyStep', opts.tinyStep === undefined ? d.tinyStep : opts.tinyStep),
    tinyStepGains: ratioOrNull('tinyStepGains', opts.tinyStepGains === undefined ? d.tinyStepGains : opts.tinyStepGains),
    runningStats: oneOf('runningStats', opts.runningStats ?? d.runningStats, RUNNING_STATS),
    unchangedTensors: oneOf('unchangedTensors', opts.unchangedTensors ?? d.unchangedTensors, UNCHANGED_TENSORS),
    nearTwins: oneOf('nearTwins', opts.nearTwins ?? d.nearTwins, NEAR_TWINS),
    forgetting: oneOf('forgetting', opts.forgetting ?? d.forgetting, FORGETTING),
    tensorMajority: oneOf('tensorMajority', opts.tensorMajority ?? d.tensorMajority, TENSOR_MAJORITY),
    confidenceRates: oneOf('confidenceRates', opts.confidenceRates ?? d.confidenceRates, CONFIDENCE_RATES),
    minDirectionConfidence: (() => {
      const x = opts.minDirectionConfidence ?? d.minDirectionConfidence;
      if (typeof x !== 'number' || !(x >= 0 && x <= 1)) throw new InvalidArgumentError('E_INVALID_ARG', `minDirectionConfidence must be in [0, 1] (got ${String(x)})`);
      return x;
    })(),
    mergeRatio,
  };
  spec.validate?.(resolved);
  return resolved;
}
