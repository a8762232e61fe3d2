/**
 * What the detector knows about a model set besides the encoder: candidate pairs and
 * dimensionless scalar features from the ScanResult (no weights are read here).
 *
 * Candidates: ordered pairs inside the learning-free families (lib/detect), and/or each
 * model's k nearest by D, so the cost grows with M·k. Features are ratios, logs and signs so
 * that a detector trained on one zoo means the same on another of different size or scale.
 */
import { detect } from '../detect/detect';
import { computeDistances } from '../detect/distances';
import { computeScores, tensorKurtosis } from '../detect/scores';
import type { ScanResult, ScanTensor } from '../scan/types';
import { matrixShape, tensorType } from './matrix';
import type { TreeRootOptions } from './model';
import { additiveTreeView, treeFeatures, TREE_EDGE_FEATURES, TREE_NODE_FEATURES } from './tree-features';

export type CandidateMode = 'families' | 'knn' | 'both';

export interface CandidateOptions {
  candidates: CandidateMode;
  /** Nearest neighbours per model (knn, both). */
  k: number;
  /** The additive tree's root options for the tree-input features (default: the package's). */
  treeOptions?: TreeRootOptions;
}

export interface Pair {
  /** Candidate parent and child: indices into scan.models. */
  a: number;
  b: number;
}

export const EDGE_FEATURES = [
  'score-diff', 'norm-diff', 'norm-vote', 'log-std-ratio', 'kurtosis-diff', 'mean-shift',
  'log-d', 'log-d-over-child-min', 'log-d-over-parent-min', 'child-nearest', 'parent-nearest', 'score-rank-diff',
  'hub-diff',
  ...TREE_EDGE_FEATURES,
] as const;
export const NODE_FEATURES = ['score-z', 'score-rank', 'log-min-d', 'candidates-in', 'candidates-out', 'hub', 'bias', ...TREE_NODE_FEATURES] as const;

export interface SetFeatures {
  pairs: Pair[];
  /** pairs × EDGE_FEATURES */
  edge: Float32Array;
  /** models × NODE_FEATURES */
  node: Float32Array;
  /** Relative distance matrix the features came from. */
  distances: number[][];
  scores: Float64Array;
}

/** Tensors both models have, with the same compared shape and no row-prefix alignment. */
export function sharedTensors(scan: ScanResult): ScanTensor[] {
  return scan.tensors.filter((t) => t.models.length >= 2 && !t.rowPrefix);
}

/**
 * Tensors that get a token per pair (encoder output + type + per-tensor features): every
 * shared tensor, vectors included (measured on mnist-fc: the first bias's norm orders parent
 * and child better than any pooled score), capped at the largest `maxTensors`.
 */
export function encoderTensors(scan: ScanResult, include?: RegExp, exclude?: RegExp, maxTensors = 16): ScanTensor[] {
  const list = sharedTensors(scan).filter((t) => (!include || include.test(t.name)) && !(exclude && exclude.test(t.name)));
  // The largest carry the most of a fine-tune; ties by name keep the choice deterministic.
  return list
    .slice()
    .sort((x, y) => y.count - x.count || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .slice(0, maxTensors)
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** The encoder's input scale for a pair on a tensor: the RMS of the two models' weights. */
export function pairScale(t: ScanTensor, a: number, b: number): number {
  const ia = t.models.indexOf(a);
  const ib = t.models.indexOf(b);
  const s = Math.sqrt((t.sumSq[ia] + t.sumSq[ib]) / (2 * t.count));
  return s > 0 && Number.isFinite(s) ? s : 1;
}

/** @param families the learning-free families (model indices; default: `detect(scan)`'s). */
export function candidatePairs(scan: ScanResult, dist: number[][], opts: CandidateOptions, families?: number[][]): Pair[] {
  const M = scan.models.length;
  const keep = new Set<number>();
  if (opts.candidates !== 'knn') {
    const index = new Map(scan.models.map((m, i) => [m.id, i]));
    for (const ids of families ?? detect(scan).families.map((f) => f.map((id) => index.get(id)!))) {
      for (const a of ids) for (const b of ids) if (a !== b) keep.add(a * M + b);
    }
  }
  if (opts.candidates !== 'families') {
    for (let b = 0; b < M; b++) {
      const near = [...Array(M).keys()].filter((a) => a !== b && Number.isFinite(dist[a][b])).sort((x, y) => dist[x][b] - dist[y][b] || x - y);
      for (const a of near.slice(0, opts.k)) {
        keep.add(a * M + b);
        keep.add(b * M + a);
      }
    }
  }
  return [...keep].sort((x, y) => x - y).map((v) => ({ a: Math.floor(v / M), b: v % M }));
}

interface TensorStats {
  sq: number;
  std: number;
  mean: number;
  kurt: number | null;
}

function statsOf(t: ScanTensor, slot: number): TensorStats {
  const n = t.count;
  const mean = t.sum[slot] / n;
  const v = Math.max(0, t.sumSq[slot] / n - mean * mean);
  return { sq: t.sumSq[slot], std: Math.sqrt(v), mean, kurt: tensorKurtosis(t, slot) };
}

const safeLog = (x: number) => Math.log(Math.max(x, 1e-12));

export function setFeatures(scan: ScanResult, opts: CandidateOptions): SetFeatures {
  const M = scan.models.length;
  const tensors = sharedTensors(scan);
  const distances = computeDistances(tensors, M, { metric: 'euclidean', normalize: 'relative', combine: 'mean' });
  const scores = computeScores(tensors, M, { kind: 'fake-init', normalize: 'none', combine: 'sum', tensors: 'all' });
  const tree = additiveTreeView(scan, undefined, opts.treeOptions);
  const pairs = candidatePairs(scan, distances, opts, tree.families);
  const treeF = treeFeatures(tensors, pairs, tree);

  const minD = (m: number, asChild: boolean) => {
    let best = Infinity;
    for (let x = 0; x < M; x++) if (x !== m) best = Math.min(best, asChild ? distances[x][m] : distances[m][x]);
    return best;
  };
  const minTo = Array.from({ length: M }, (_, m) => minD(m, true));
  // How many models have this one as their nearest: a parent with several fine-tunes is the
  // hub of its family's star, whatever the direction score says.
  const hub = new Float64Array(M);
  for (let b = 0; b < M; b++) {
    let best = -1;
    for (let a = 0; a < M; a++) if (a !== b && Number.isFinite(distances[a][b]) && (best < 0 || distances[a][b] < distances[best][b])) best = a;
    if (best >= 0) hub[best]++;
  }
  const finite = pairs.map((p) => distances[p.a][p.b]).filter((d) => Number.isFinite(d) && d > 0).sort((x, y) => x - y);
  const medianD = finite.length ? finite[Math.floor(finite.length / 2)] : 1;
  const order = [...Array(M).keys()].sort((x, y) => scores[x] - scores[y] || x - y);
  const rank = new Float64Array(M);
  order.forEach((m, r) => (rank[m] = M > 1 ? r / (M - 1) : 0));

  const F = EDGE_FEATURES.length;
  const edge = new Float32Array(pairs.length * F);
  pairs.forEach((p, i) => {
    let normDiff = 0, vote = 0, logStd = 0, kurt = 0, kurtN = 0, shift = 0, n = 0;
    for (const t of tensors) {
      const ia = t.models.indexOf(p.a);
      const ib = t.models.indexOf(p.b);
      if (ia < 0 || ib < 0) continue;
      const A = statsOf(t, ia);
      const B = statsOf(t, ib);
      n++;
      normDiff += A.sq + B.sq > 0 ? (A.sq - B.sq) / (A.sq + B.sq) : 0;
      vote += A.sq < B.sq ? 1 : A.sq > B.sq ? -1 : 0;
      logStd += A.std > 0 && B.std > 0 ? Math.log(A.std / B.std) : 0;
      shift += A.std + B.std > 0 ? (A.mean - B.mean) / ((A.std + B.std) / 2) : 0;
      if (A.kurt !== null && B.kurt !== null && A.kurt + B.kurt > 0) {
        kurt += (A.kurt - B.kurt) / (A.kurt + B.kurt);
        kurtN++;
      }
    }
    n = Math.max(n, 1);
    const d = distances[p.a][p.b];
    const sa = scores[p.a];
    const sb = scores[p.b];
    const f = [
      sa + sb > 0 ? (sa - sb) / (sa + sb) * 10 : 0,
      (normDiff / n) * 10,
      vote / n,
      (logStd / n) * 10,
      kurtN ? (kurt / kurtN) * 10 : 0,
      (shift / n) * 10,
      safeLog(d / medianD),
      safeLog(d / minTo[p.b]),
      safeLog(d / minTo[p.a]),
      d <= minTo[p.b] ? 1 : 0,
      d <= minTo[p.a] ? 1 : 0,
      rank[p.a] - rank[p.b],
      Math.min(hub[p.a], 8) - Math.min(hub[p.b], 8),
      ...treeF.edge[i],
    ];
    for (let j = 0; j < F; j++) edge[i * F + j] = Number.isFinite(f[j]) ? Math.max(-20, Math.min(20, f[j])) : 0;
  });

  const G = NODE_FEATURES.length;
  const node = new Float32Array(M * G);
  let mu = 0;
  for (let m = 0; m < M; m++) mu += scores[m] / M;
  let sd = 0;
  for (let m = 0; m < M; m++) sd += (scores[m] - mu) ** 2 / M;
  sd = Math.sqrt(sd) || 1;
  const inCount = new Float64Array(M);
  const outCount = new Float64Array(M);
  for (const p of pairs) {
    inCount[p.b]++;
    outCount[p.a]++;
  }
  for (let m = 0; m < M; m++) {
    const f = [(scores[m] - mu) / sd, rank[m], safeLog(minTo[m] / medianD), inCount[m] / Math.max(1, M - 1), outCount[m] / Math.max(1, M - 1), Math.min(hub[m], 8), 1, ...treeF.node[m]];
    for (let j = 0; j < G; j++) node[m * G + j] = Number.isFinite(f[j]) ? Math.max(-20, Math.min(20, f[j])) : 0;
  }
  return { pairs, edge, node, distances, scores };
}

/** Per encoder tensor: its type index and matrix shape. */
export function tensorInfo(t: ScanTensor): { type: number; rows: number; cols: number } {
  const [rows, cols] = matrixShape(t.shape);
  return { type: tensorType(t.name, t.shape), rows, cols };
}

export const TENSOR_FEATURES = ['norm-diff', 'log-std-ratio', 'kurtosis-diff', 'fake-init-diff', 'log-d-over-child-min', 'log-d-over-parent-min', 'log-d-over-median'] as const;

/** Per pair × tensor features [P × T × TENSOR_FEATURES], zero where a pair lacks the tensor. */
export function tensorFeatures(pairs: Pair[], tensors: ScanTensor[], models: number): Float32Array {
  const K = TENSOR_FEATURES.length;
  const T = tensors.length;
  const out = new Float32Array(pairs.length * T * K);
  tensors.forEach((t, j) => {
    const k = t.models.length;
    const d2 = (i: number, l: number) => Math.max(0, t.gram[i][i] + t.gram[l][l] - 2 * t.gram[i][l]) / Math.max(1e-30, (t.gram[i][i] + t.gram[l][l]) / 2);
    const minIn = new Float64Array(models).fill(Infinity);
    const all: number[] = [];
    for (let i = 0; i < k; i++) for (let l = 0; l < k; l++) if (i !== l) {
      const v = d2(i, l);
      minIn[t.models[l]] = Math.min(minIn[t.models[l]], v);
      if (i < l) all.push(v);
    }
    all.sort((x, y) => x - y);
    const median = all.length ? all[Math.floor(all.length / 2)] : 1;
    pairs.forEach((p, i) => {
      const ia = t.models.indexOf(p.a);
      const ib = t.models.indexOf(p.b);
      if (ia < 0 || ib < 0) return;
      const A = statsOf(t, ia);
      const B = statsOf(t, ib);
      const fa = t.fakeInitSq[ia];
      const fb = t.fakeInitSq[ib];
      const d = d2(ia, ib);
      // Squared distances: halve the logs so they read as log-distances.
      const f = [
        A.sq + B.sq > 0 ? ((A.sq - B.sq) / (A.sq + B.sq)) * 10 : 0,
        A.std > 0 && B.std > 0 ? Math.log(A.std / B.std) * 10 : 0,
        A.kurt !== null && B.kurt !== null && A.kurt + B.kurt > 0 ? ((A.kurt - B.kurt) / (A.kurt + B.kurt)) * 10 : 0,
        fa + fb > 0 ? ((fa - fb) / (fa + fb)) * 10 : 0,
        0.5 * safeLog(d / minIn[p.b]),
        0.5 * safeLog(d / minIn[p.a]),
        0.5 * safeLog(d / median),
      ];
      for (let q = 0; q < K; q++) out[(i * T + j) * K + q] = Number.isFinite(f[q]) ? Math.max(-20, Math.min(20, f[q])) : 0;
    });
  });
  return out;
}
