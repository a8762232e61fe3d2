/**
 * Options of `detect`, their defaults and validation. Options are flat so that the CLI and
 * parameter sweeps can set any of them by name; `resolveOptions` fills every default, and the
 * resolved set is what DetectionResult.options records.
 */
import { InvalidArgumentError } from '../errors';
import type { DirectionEvidence, RootPrior } from './root-posterior';
import type { TreeModel } from './additive-method';

export type MethodName =
  | 'additive-tree'
  | 'arborescence'
  | 'spanning-forest'
  | 'kmeans-after'
  | 'kmeans-along'
  | 'agglomerative'
  | 'spectral'
  | 'dbscan'
  | 'mother';

/** Method names with one-line descriptions (the CLI's help prints these). */
export const METHODS: ReadonlyArray<{ name: MethodName; description: string }> = [
  { name: 'additive-tree', description: 'per family, the tree whose path sums best explain all squared distances, rooted by an attachment prior and per-tensor direction votes (default; multi-generation, no K)' },
  { name: 'arborescence', description: 'edges a→b only where score(a) < score(b), weighted by D; Chu-Liu/Edmonds under a virtual root costing τ (multi-generation, no K)' },
  { name: 'spanning-forest', description: 'undirected minimum spanning forest under τ, each family oriented as a whole by the score (no K)' },
  { name: 'kmeans-after', description: 'kernel k-means on the Gram, then the lowest-score member of each cluster is the parent of the others' },
  { name: 'kmeans-along', description: 'direction-aware k-medoids: each centre moves to the lowest-score member of its cluster; centres are parents' },
  { name: 'agglomerative', description: 'average/Ward linkage on D, a family per cluster, oriented inside the cluster' },
  { name: 'spectral', description: 'normalised-Laplacian spectral clustering on an affinity from D, a family per cluster, oriented inside' },
  { name: 'dbscan', description: 'DBSCAN on D (eps from the distance distribution), a family per cluster, oriented inside; noise points are roots' },
  { name: 'mother', description: 'MoTHer baseline: per-layer RMS ΔW distance + λ·kurtosis-direction penalty, Chu-Liu/Edmonds' },
];

export type ScoreKind = 'fake-init' | 'norm' | 'kurtosis';
/** Per-tensor normalisation of a direction score before combining tensors. */
export type ScoreNormalize = 'none' | 'per-element' | 'init' | 'mean-norm';
export type Combine = 'sum' | 'mean' | 'size-weighted';
export type DistanceMetric = 'euclidean' | 'cosine';
/** Per-tensor normalisation of ‖a−b‖² before combining tensors; 'rms' is MoTHer's. */
export type DistanceNormalize = 'none' | 'per-element' | 'relative' | 'rms';
export type TauRule = 'gap' | 'msf-gap' | 'none';
export type Within = 'star' | 'arborescence' | 'tree';
export type AutoKRule = 'silhouette' | 'gap' | 'components';
export type Linkage = 'average' | 'ward';
export type ScoreSign = 1 | -1 | 'auto';
export type TensorPattern = string | RegExp;
export type { RootPrior, DirectionEvidence, TreeModel };

export interface DetectOptions {
  method?: MethodName;
  /** Number of families for the clustering methods, or 'auto' (see autoK). */
  k?: number | 'auto';
  autoK?: AutoKRule;
  /** Largest K that 'auto' tries. */
  kMax?: number;
  score?: ScoreKind;
  scoreNormalize?: ScoreNormalize;
  scoreCombine?: Combine;
  /** 'matrices': only tensors with two or more dimensions enter the score. */
  scoreTensors?: 'all' | 'matrices';
  /** 1: higher score = later generation; -1: reversed; 'auto': chosen from the tree shapes. */
  scoreSign?: ScoreSign;
  distance?: DistanceMetric;
  distanceNormalize?: DistanceNormalize;
  distanceCombine?: Combine;
  /** Root cost of the virtual root, or how to derive it from the distances. */
  tau?: number | TauRule;
  /** A gap becomes τ only if the distance above it is at least this many times the one below. */
  tauMinRatio?: number;
  /** Pairs whose weights correlate less than this (Pearson, pooled over tensors) are never
   * linked; null turns the gate off. */
  minCorrelation?: number | null;
  include?: TensorPattern | TensorPattern[];
  exclude?: TensorPattern | TensorPattern[];
  seed?: number;
  restarts?: number;
  maxIter?: number;
  linkage?: Linkage;
  /** How a cluster becomes a family tree (clustering methods). */
  within?: Within;
  /** DBSCAN radius (default: τ) and minimum neighbourhood size (itself included). */
  eps?: number;
  minPts?: number;
  /** MoTHer's weight of the kurtosis-direction penalty against the normalised distance. */
  lambda?: number;
  /** additive-tree: prior over each family's root ('attachment': rumour centrality). */
  rootPrior?: RootPrior;
  /** additive-tree: what votes on direction ('tensor-votes': per-tensor fake-init distance and
   * kurtosis, weighted by their error rates on this scan; 'score': the direction score). */
  directionEvidence?: DirectionEvidence;
  /** additive-tree: 'shared-drift' refits each rooted tree allowing correlated increments;
   * 'additive' keeps the additive fit. */
  treeModel?: TreeModel;
}

export interface ResolvedOptions {
  method: MethodName;
  k: number | 'auto';
  autoK: AutoKRule;
  kMax: number | null;
  score: ScoreKind;
  scoreNormalize: ScoreNormalize;
  scoreCombine: Combine;
  scoreTensors: 'all' | 'matrices';
  scoreSign: ScoreSign;
  distance: DistanceMetric;
  distanceNormalize: DistanceNormalize;
  distanceCombine: Combine;
  tau: number | TauRule;
  tauMinRatio: number;
  minCorrelation: number | null;
  include: string[];
  exclude: string[];
  seed: number;
  restarts: number;
  maxIter: number;
  linkage: Linkage;
  within: Within;
  eps: number | null;
  minPts: number;
  lambda: number;
  rootPrior: RootPrior;
  directionEvidence: DirectionEvidence;
  treeModel: TreeModel;
}

const METHOD_NAMES = METHODS.map((m) => m.name) as string[];

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

/**
 * Fills the defaults. They follow the measurements available so far, to be revised on more
 * trained zoos; the `mother` method takes MoTHer's own choices unless an option is given.
 * docs/detect.md has the study behind them (scripts/study-detect.ts).
 * - method additive-tree: directed-edge accuracy on mnist-fc small, zoo seeds 0–4 (0–1 used
 *   to design it), 92.0 ± 4.9% against 67.2 ± 6.6% for the arborescence, the previous
 *   default; ahead of it as well on mnist-cnn, tiny-llama and synthetic families
 *   (docs/detect.md). Its own defaults: whole-model squared Euclidean distances (additive
 *   over tensors; per-tensor normalisation gave 41% on mnist-fc, where 10-element biases
 *   then weigh as much as the 50k-element matrix); families from the correlation gate alone
 *   (τ 'none'); the attachment prior and per-tensor votes for the root; the shared-drift
 *   refit.
 * Measured earlier on two trained MLP zoos (build-learned/zoos/mnist-fc-s0 and -s1: 5
 * families of 6 each, 50 true edges), edge accuracy s0 / s1, for the other methods:
 *   arborescence, fake-init mean-norm/mean, rms/mean distance       0.76 / 0.64  (their defaults)
 *   arborescence, fake-init none/sum (paper), relative/mean         0.44 / 0.44
 *   spanning-forest, same score and distance as the defaults        0.60 / 0.44
 *   mother (kurtosis, rms, λ 0.3)                                   0.60 / 0.76
 * - method arborescence: on these zoos siblings fine-tuned on one task are often nearer to
 *   each other than to their parent, so an undirected spanning forest links siblings; only
 *   admitting lower-score parents removes most of those links. DESIGN "Measured so far" 3
 *   (family-wise orientation beats per-edge) compares orientations of a correct undirected
 *   tree; `spanning-forest` implements it and wins when distances alone recover the tree.
 * - score fake-init with mean-norm/mean: ‖θ_t − r_t‖² over the tensor's mean ‖θ_t‖², one
 *   vote per tensor, scale-free, so neither vocabulary-sized tensors nor per-element bias
 *   magnitudes dominate (DESIGN 2, 5). Share of true edges with s(parent) < s(child): 22, 20
 *   of 25 against 17, 17 for the raw sum and 19, 14 for per-element/mean.
 * - scoreSign 1 for fake-init and norm (more gradient steps, farther from init), 'auto' for
 *   kurtosis, whose sign flips between vision nets and LLMs (DESIGN 4); 'auto' chose +1 on
 *   both zoos, as DESIGN 4 found for small vision nets.
 * - distance rms/mean (MoTHer's per-layer RMS of ΔW, one vote per tensor, so vocabulary-sized
 *   tensors cannot dominate, DESIGN 5): true edges in the spanning forest 19, 17 of 25, against
 *   16, 17 for relative/mean and 15, 15 for whole-model L2.
 * - τ at the largest gap of the pairwise distances (DESIGN 1), accepted when the jump is
 *   ≥ 1.5× (none for additive-tree). minCorrelation 0.25 (plus a 5σ noise floor): over 15
 *   trained zoos (mnist-fc, mnist-cnn, tiny-llama, 5 seeds each) models of different families
 *   correlated at most 0.125 (small CNNs trained on the same data; MLPs ≤ 0.07, LLaMAs
 *   ≤ 0.02) and every true parent–child pair at least 0.42, so 0.25 leaves a factor of about
 *   2 on either side; 0.1 merged families of mnist-cnn seeds 1–4.
 * - k auto by silhouette, K ≥ the groups left by the gate and τ.
 * - within star for kmeans-after/along (their definition), tree for the other clusterings.
 */
export function resolveOptions(opts: DetectOptions = {}): ResolvedOptions {
  const method = oneOf('method', opts.method ?? 'additive-tree', METHOD_NAMES) as MethodName;
  const isMother = method === 'mother';
  // The additive tree needs squared distances that add over tensors: whole-model Euclidean
  // by default (every parameter one term), never MoTHer's per-tensor RMS.
  const additive = method === 'additive-tree';
  const distanceNormalize = oneOf('distanceNormalize', opts.distanceNormalize ?? (additive ? 'none' : 'rms'), ['none', 'per-element', 'relative', 'rms'] as const);
  if (additive && distanceNormalize === 'rms') {
    throw new InvalidArgumentError('E_INVALID_ARG', "additive-tree needs squared distances that add up: distanceNormalize none, per-element or relative (not rms)");
  }
  const score = oneOf('score', opts.score ?? (isMother ? 'kurtosis' : 'fake-init'), ['fake-init', 'norm', 'kurtosis'] as const);
  let k: number | 'auto' = 'auto';
  if (opts.k !== undefined && opts.k !== 'auto') k = positive('k', opts.k, true);
  // additive-tree takes its families from the correlation gate alone: inside a family,
  // distances of fine-tunes at lr 0.01 and 0.001 differ by a factor ~4, and the gap rule split
  // a family of mnist-fc seed 2 (for every method) on RMS distances as on Euclidean ones.
  let tau: number | TauRule = method === 'additive-tree' ? 'none' : 'gap';
  if (typeof opts.tau === 'number') {
    if (!(opts.tau > 0)) throw new InvalidArgumentError('E_INVALID_ARG', `tau must be positive (got ${opts.tau})`);
    tau = opts.tau;
  } else if (opts.tau !== undefined) tau = oneOf('tau', opts.tau, ['gap', 'msf-gap', 'none'] as const);
  let scoreSign: ScoreSign = score === 'kurtosis' && !isMother ? 'auto' : 1;
  if (opts.scoreSign !== undefined) {
    if (opts.scoreSign !== 1 && opts.scoreSign !== -1 && opts.scoreSign !== 'auto') {
      throw new InvalidArgumentError('E_INVALID_ARG', `scoreSign must be 1, -1 or 'auto' (got ${String(opts.scoreSign)})`);
    }
    scoreSign = opts.scoreSign;
  }
  let minCorrelation: number | null = 0.25;
  if (opts.minCorrelation !== undefined) {
    if (opts.minCorrelation !== null && (typeof opts.minCorrelation !== 'number' || !(opts.minCorrelation >= -1 && opts.minCorrelation <= 1))) {
      throw new InvalidArgumentError('E_INVALID_ARG', `minCorrelation must be in [-1, 1] or null (got ${String(opts.minCorrelation)})`);
    }
    minCorrelation = opts.minCorrelation;
  }
  const seed = opts.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new InvalidArgumentError('E_INVALID_ARG', `seed must be a number (got ${String(seed)})`);
  return {
    method,
    k,
    autoK: oneOf('autoK', opts.autoK ?? 'silhouette', ['silhouette', 'gap', 'components'] as const),
    kMax: opts.kMax === undefined ? null : positive('kMax', opts.kMax, true),
    score,
    scoreNormalize: oneOf('scoreNormalize', opts.scoreNormalize ?? 'mean-norm', ['none', 'per-element', 'init', 'mean-norm'] as const),
    scoreCombine: oneOf('scoreCombine', opts.scoreCombine ?? 'mean', ['sum', 'mean', 'size-weighted'] as const),
    scoreTensors: oneOf('scoreTensors', opts.scoreTensors ?? (score === 'kurtosis' ? 'matrices' : 'all'), ['all', 'matrices'] as const),
    scoreSign,
    distance: oneOf('distance', opts.distance ?? 'euclidean', ['euclidean', 'cosine'] as const),
    distanceNormalize,
    distanceCombine: oneOf('distanceCombine', opts.distanceCombine ?? (additive ? 'sum' : 'mean'), ['sum', 'mean', 'size-weighted'] as const),
    tau,
    tauMinRatio: opts.tauMinRatio === undefined ? 1.5 : positive('tauMinRatio', opts.tauMinRatio, false),
    minCorrelation,
    include: patterns('include', opts.include),
    exclude: patterns('exclude', opts.exclude),
    seed,
    restarts: opts.restarts === undefined ? 10 : positive('restarts', opts.restarts, true),
    maxIter: opts.maxIter === undefined ? 100 : positive('maxIter', opts.maxIter, true),
    linkage: oneOf('linkage', opts.linkage ?? 'average', ['average', 'ward'] as const),
    within: oneOf('within', opts.within ?? (method === 'kmeans-after' || method === 'kmeans-along' ? 'star' : 'tree'), ['star', 'arborescence', 'tree'] as const),
    eps: opts.eps === undefined ? null : positive('eps', opts.eps, false),
    minPts: opts.minPts === undefined ? 2 : positive('minPts', opts.minPts, true),
    lambda: opts.lambda === undefined ? 0.3 : (() => {
      if (typeof opts.lambda !== 'number' || !(opts.lambda >= 0)) throw new InvalidArgumentError('E_INVALID_ARG', `lambda must be ≥ 0 (got ${String(opts.lambda)})`);
      return opts.lambda;
    })(),
    rootPrior: oneOf('rootPrior', opts.rootPrior ?? 'attachment', ['attachment', 'uniform'] as const),
    directionEvidence: oneOf('directionEvidence', opts.directionEvidence ?? 'tensor-votes', ['tensor-votes', 'score'] as const),
    treeModel: oneOf('treeModel', opts.treeModel ?? 'shared-drift', ['shared-drift', 'additive'] as const),
  };
}
