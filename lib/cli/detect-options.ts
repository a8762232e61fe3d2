/** Options of the learning-free methods as CLI flags (detect, eval, demo). */
import { CONFIDENCE_RATES, DEFAULTS, type DetectOptions } from '../detect/options';
import { METHOD_CHOICES } from '../detect/methods/registry';
import { resolveOptions } from '../detect/resolve-options';
import {
  COMBINES, DIRECTION_EVIDENCES, DISTANCE_METRICS, DISTANCE_NORMALIZES, LINKAGES, ROOT_PRIORS, SCORE_KINDS, SCORE_NORMALIZES,
  TAU_RULES, TREE_MODELS, WITHINS,
} from '../detect/options';
import { parsePattern } from '../scan/fake-init';
import { MODEL_SIGNAL_NAMES } from '../detect/direction-signals';
import { RUNNING_STATS } from '../detect/running-stats';
import { UNCHANGED_TENSORS } from '../detect/unchanged-tensors';
import { NEAR_TWINS } from '../detect/near-twins';
import { FORGETTING } from '../detect/forgetting';
import { TENSOR_MAJORITY } from '../detect/tensor-majority';
import type { OptionSpec, ParsedArgs } from './args';
import { UsageError } from './args';

/** Every registered method (the registry's live list: a method registered later shows up too). */
export const METHOD_NAMES = METHOD_CHOICES;

export const DETECT_OPTIONS: OptionSpec[] = [
  { name: 'method', alias: 'm', type: 'string', arg: 'M', description: 'detection method (see `phylogeny methods`)', default: resolveOptions({}).method, choices: METHOD_NAMES },
  { name: 'k', type: 'string', arg: 'N|auto', description: 'number of families for the clustering methods', default: 'auto' },
  { name: 'score', type: 'string', arg: 'S', description: 'direction score', choices: [...SCORE_KINDS] },
  { name: 'score-normalize', type: 'string', arg: 'N', description: 'per-tensor normalisation of the score', choices: [...SCORE_NORMALIZES] },
  { name: 'score-combine', type: 'string', arg: 'C', description: 'how tensor scores combine', choices: [...COMBINES] },
  { name: 'score-sign', type: 'string', arg: 'SIGN', description: "1: higher score = later generation; -1 reversed; auto", choices: ['1', '-1', 'auto'] },
  { name: 'distance', type: 'string', arg: 'D', description: 'distance between models', choices: [...DISTANCE_METRICS] },
  { name: 'distance-normalize', type: 'string', arg: 'N', description: 'per-tensor normalisation of distances', choices: [...DISTANCE_NORMALIZES] },
  { name: 'tau', type: 'string', arg: 'T', description: `root cost of the virtual root: a number, or ${TAU_RULES.join(' | ')}` },
  { name: 'lambda', type: 'number', arg: 'L', description: 'MoTHer: weight of the kurtosis-direction penalty' },
  { name: 'linkage', type: 'string', arg: 'L', description: 'agglomerative linkage', choices: [...LINKAGES] },
  { name: 'within', type: 'string', arg: 'W', description: 'how a cluster becomes a tree', choices: [...WITHINS] },
  { name: 'restarts', type: 'number', arg: 'N', description: 'k-means restarts' },
  { name: 'min-correlation', type: 'string', arg: 'R', description: "never link models whose weights correlate less than R (pooled Pearson), or 'off'" },
  { name: 'root-prior', type: 'string', arg: 'P', description: 'additive-tree: prior over each family root', choices: [...ROOT_PRIORS] },
  { name: 'direction-evidence', type: 'string', arg: 'E', description: 'additive-tree: what votes on direction', choices: [...DIRECTION_EVIDENCES] },
  { name: 'tree-model', type: 'string', arg: 'T', description: `additive-tree: refit rooted trees allowing correlated increments (shared-drift), scored also by how evenly the increments correlate (drift-correlations), or keep the additive fit; default ${DEFAULTS.treeModel}`, choices: [...TREE_MODELS] },
  { name: 'direction-signal', type: 'list', arg: 'NAME=EPS', description: `additive-tree: a model-level signal that votes on direction with fixed error rate EPS (< 0.5: grows from parent to child; > 0.5: falls); repeatable; signals: ${MODEL_SIGNAL_NAMES.join(', ')} (docs/detect.md)` },
  { name: 'family-flip', type: 'string', arg: 'P|off', description: "additive-tree: prior probability that a family's training regime reverses a whole kind of direction evidence (fake-init distances with the score; kurtosis) against the rest of the scan (docs/detect.md; default 0.1), or 'off'" },
  { name: 'family-noise', type: 'string', arg: 'P|off', description: "additive-tree, with --family-flip: prior probability that a family's training regime leaves a whole kind of direction evidence without direction (its votes coin tosses), so it does not move the family's root (docs/detect.md; default 0.4), or 'off'" },
  { name: 'evidence-temper', type: 'number', arg: 'T', description: `additive-tree: weight in (0, 1] of each weight-statistic vote on a family's root (one model's tensors move together, so their votes are not independent; 1 counts them as if they were; docs/detect.md; default ${DEFAULTS.evidenceTemper})` },
  { name: 'tiny-step', type: 'string', arg: 'R|off', description: `additive-tree: the direction score's vote on a pair counts reversed when the pair's relative step ‖a − b‖² / ½(‖a‖² + ‖b‖²) is below R (a few tiny steps make the weight statistics fall; docs/detect.md; default ${DEFAULTS.tinyStep ?? 'off'}), or 'off'` },
  { name: 'fake-init-abstain', type: 'string', arg: 'R|off', description: `additive-tree: a tensor's fake-init vote on a pair abstains when the change of its fake-init distance exceeds R times the pair's squared distance (the update then follows the new task's gradient along the weights, as tiny fine-tunes do, not the order of training; docs/detect.md; default ${DEFAULTS.fakeInitAbstain ?? 'off'}), or 'off'` },
  { name: 'unchanged-tensors', type: 'string', arg: 'U', description: `additive-tree: 'connect' fits only trees in which the models that hold a tensor bit-identical (frozen by a last-layer or LoRA-style fine-tune) are connected, since no fine-tune restores a tensor it changed; 'ignore' lets identical tensors constrain nothing (docs/detect.md; default ${DEFAULTS.unchangedTensors})`, choices: [...UNCHANGED_TENSORS] },
  { name: 'near-twins', type: 'string', arg: 'N', description: `additive-tree: where a model barely moved from its parent the distances cannot tell which of the two holds the other's fine-tunes; 'doubt' keeps the fitted tree but gives direction confidences over every such reading, 'weigh' also takes the reading of highest posterior, 'ignore' keeps the fitted tree's confidences (docs/detect.md; default ${DEFAULTS.nearTwins})`, choices: [...NEAR_TWINS] },
  { name: 'forgetting', type: 'string', arg: 'F', description: `additive-tree: 'refit' lets a fine-tune's increment anti-correlate with its parent's (weight decay makes a fine-tune forget part of what its parent learnt) and moves a model back under its parent where that fits better and the parent is its nearest model; 'unchecked' takes every such move; 'ignore' gives all increments one correlation (docs/detect.md; default ${DEFAULTS.forgetting})`, choices: [...FORGETTING] },
  { name: 'tensor-majority', type: 'string', arg: 'T', description: `additive-tree: 'move' hangs a model under another model where its tensors, one vote each, put that model significantly nearer than its fitted parent (one-sided sign test, family-wise level 0.05), since a few large tensors trained towards one task can outweigh the rest in the summed distance; 'ignore' lets the summed distances decide (docs/detect.md; default ${DEFAULTS.tensorMajority})`, choices: [...TENSOR_MAJORITY] },
  { name: 'confidence-rates', type: 'string', arg: 'C', description: `additive-tree: the signal error rates each family's direction confidences are taken with: 'held-out' (the other families' votes alone, so a family's own votes do not vouch for the rates they are weighed by; a family alone in the scan is then vouched for only by the attachment prior and step counters), or 'scan' (every family's); roots and trees are the same either way, except under --near-twins weigh, which picks a reading by the posterior (docs/confidence.md; default ${DEFAULTS.confidenceRates})`, choices: [...CONFIDENCE_RATES] },
  { name: 'running-stats', type: 'string', arg: 'R', description: "BatchNorm running_mean / running_var (moving averages each fine-tune largely overwrites): 'ignore' leaves them out of detection, 'compare' treats them as weights (docs/detect.md; default ignore, for mother compare)", choices: [...RUNNING_STATS] },
  { name: 'min-direction-confidence', type: 'number', arg: 'X', description: 'leave families whose direction confidence (1 − the expected number of their reversed edges, docs/confidence.md) is below X undirected: edges kept, marked undirected, not counted as directed by eval', default: 0 },
  { name: 'merge-ratio', type: 'string', arg: 'R|off', description: "call a model a merge of 2-4 family members when their best weighted average leaves at most R of its nearest distance² (default 0.125), or 'off'" },
  { name: 'cluster-seed', type: 'number', arg: 'S', description: 'seed of the clustering methods' },
  { name: 'detector', type: 'string', arg: 'DIR', description: 'trained detector directory for --method learned (default: the detector shipped in the package, docs/learned.md)' },
];

/** A `--NAME X|off` option: undefined when absent, null for 'off', else a number in range. */
function numberOrOff(o: Record<string, unknown>, name: string, ok: (n: number) => boolean, range: string): number | null | undefined {
  if (o[name] === undefined) return undefined;
  const r = o[name] as string;
  const n = Number(r);
  if (r === 'off') return null;
  if (r.trim() !== '' && Number.isFinite(n) && ok(n)) return n;
  throw new UsageError(`--${name} must be in ${range} or 'off'; got '${r}'`);
}

export function detectOptionsFrom(args: ParsedArgs, method?: string): DetectOptions {
  const o = args.opts;
  const opts: DetectOptions = { method: (method ?? o.method) as DetectOptions['method'] };
  const k = o.k as string | undefined;
  if (k !== undefined && k !== 'auto') {
    const n = Number(k);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--k must be a positive integer or auto, got '${k}'`);
    opts.k = n;
  }
  if (o.score) opts.score = o.score as DetectOptions['score'];
  if (o['score-normalize']) opts.scoreNormalize = o['score-normalize'] as DetectOptions['scoreNormalize'];
  if (o['score-combine']) opts.scoreCombine = o['score-combine'] as DetectOptions['scoreCombine'];
  if (o['score-sign']) opts.scoreSign = o['score-sign'] === 'auto' ? 'auto' : (Number(o['score-sign']) as 1 | -1);
  if (o.distance) opts.distance = o.distance as DetectOptions['distance'];
  if (o['distance-normalize']) opts.distanceNormalize = o['distance-normalize'] as DetectOptions['distanceNormalize'];
  if (o.tau !== undefined) {
    const t = o.tau as string;
    const n = Number(t);
    if ((TAU_RULES as readonly string[]).includes(t)) opts.tau = t as (typeof TAU_RULES)[number];
    else if (Number.isFinite(n) && n > 0) opts.tau = n;
    else throw new UsageError(`--tau must be a positive number or ${TAU_RULES.join(', ')}; got '${t}'`);
  }
  if (o.lambda !== undefined) opts.lambda = o.lambda as number;
  if (o.linkage) opts.linkage = o.linkage as DetectOptions['linkage'];
  if (o.within) opts.within = o.within as DetectOptions['within'];
  if (o.restarts !== undefined) opts.restarts = o.restarts as number;
  if (o['cluster-seed'] !== undefined) opts.seed = o['cluster-seed'] as number;
  const minCorrelation = numberOrOff(o, 'min-correlation', (n) => n >= -1 && n <= 1, '[-1, 1]');
  if (minCorrelation !== undefined) opts.minCorrelation = minCorrelation;
  const mergeRatio = numberOrOff(o, 'merge-ratio', (n) => n > 0 && n < 1, '(0, 1)');
  if (mergeRatio !== undefined) opts.mergeRatio = mergeRatio;
  if (o['root-prior']) opts.rootPrior = o['root-prior'] as DetectOptions['rootPrior'];
  if (o['direction-evidence']) opts.directionEvidence = o['direction-evidence'] as DetectOptions['directionEvidence'];
  if (o['direction-signal']) {
    const signals: Record<string, number> = {};
    for (const item of o['direction-signal'] as string[]) {
      const [name, eps, extra] = item.split('=');
      const e = Number(eps);
      if (extra !== undefined || !name || eps === undefined || !(e > 0 && e < 1)) throw new UsageError(`--direction-signal wants NAME=EPS with EPS in (0, 1); got '${item}'`);
      signals[name.trim()] = e;
    }
    opts.directionSignals = signals;
  }
  const familyFlip = numberOrOff(o, 'family-flip', (n) => n > 0 && n < 0.5, '(0, 0.5)');
  if (familyFlip !== undefined) opts.familyFlip = familyFlip;
  const familyNoise = numberOrOff(o, 'family-noise', (n) => n > 0 && n < 1, '(0, 1)');
  if (familyNoise !== undefined) opts.familyNoise = familyNoise;
  const fakeInitAbstain = numberOrOff(o, 'fake-init-abstain', (n) => n > 0, '(0, ∞)');
  if (fakeInitAbstain !== undefined) opts.fakeInitAbstain = fakeInitAbstain;
  const tinyStep = numberOrOff(o, 'tiny-step', (n) => n > 0 && n < 1, '(0, 1)');
  if (tinyStep !== undefined) opts.tinyStep = tinyStep;
  if (o['running-stats']) opts.runningStats = o['running-stats'] as DetectOptions['runningStats'];
  if (o['unchanged-tensors']) opts.unchangedTensors = o['unchanged-tensors'] as DetectOptions['unchangedTensors'];
  if (o['near-twins']) opts.nearTwins = o['near-twins'] as DetectOptions['nearTwins'];
  if (o.forgetting) opts.forgetting = o.forgetting as DetectOptions['forgetting'];
  if (o['tensor-majority']) opts.tensorMajority = o['tensor-majority'] as DetectOptions['tensorMajority'];
  if (o['confidence-rates']) opts.confidenceRates = o['confidence-rates'] as DetectOptions['confidenceRates'];
  if (o['evidence-temper'] !== undefined) {
    const x = o['evidence-temper'] as number;
    if (!(x > 0 && x <= 1)) throw new UsageError(`--evidence-temper must be in (0, 1]; got ${x}`);
    opts.evidenceTemper = x;
  }
  if (o['min-direction-confidence'] !== undefined) {
    const x = o['min-direction-confidence'] as number;
    if (!(x >= 0 && x <= 1)) throw new UsageError(`--min-direction-confidence must be in [0, 1]; got ${x}`);
    opts.minDirectionConfidence = x;
  }
  if (o['tree-model']) opts.treeModel = o['tree-model'] as DetectOptions['treeModel'];
  // Same pattern syntax as the scan's (glob or /regex/), handed to detect as RegExps.
  if (o.include) opts.include = (o.include as string[]).map(parsePattern);
  if (o.exclude) opts.exclude = (o.exclude as string[]).map(parsePattern);
  return opts;
}
