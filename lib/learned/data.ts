/**
 * A model set prepared for the detector: opened, scanned, featurised, with its token graph,
 * its truth (when a lineage is known) and, for training, its encoder tensors in memory.
 */
import { InvalidArgumentError } from '../errors';
import * as tf from '@tensorflow/tfjs';
import { readTensorValues } from '../io/tensor-data';
import { openModels } from '../io/discover';
import type { Lineage, ModelSet } from '../io/types';
import { scanModelSet } from '../scan/scan';
import type { ScanResult, ScanTensor } from '../scan/types';
import { EncoderVars, encodeWindows, LATENT } from './encoder';
import { CandidateOptions, EDGE_FEATURES, NODE_FEATURES, encoderTensors, pairScale, setFeatures, SetFeatures, tensorFeatures, TENSOR_FEATURES, tensorInfo } from './features';
import { tokenGraph, TokenGraph } from './graph';
import { TREE_EDGE_FEATURES, TREE_NODE_FEATURES } from './tree-features';
import { LEGACY_TREE_OPTIONS, type DetectorConfig, type SetInputs } from './model';
import type { Mulberry32Rng } from '../graph';

export type Role = 'root' | 'train' | 'val' | 'test';

export interface PreparedSet {
  name: string;
  set: ModelSet;
  scan: ScanResult;
  features: SetFeatures;
  graph: TokenGraph;
  /** Encoder tensors and, per pair × tensor, the input scale (0 where the pair lacks it). */
  tensors: ScanTensor[];
  scales: Float32Array;
  /** Per pair × tensor scalar features (features.ts TENSOR_FEATURES). */
  tensorFeatures: Float32Array;
  /** True parent per model (-1: a root), when the set has a lineage. */
  parent?: Int32Array;
}

export function prepareSet(name: string, set: ModelSet, scan: ScanResult, cfg: DetectorConfig): PreparedSet {
  const opts: CandidateOptions = { candidates: cfg.candidates, k: cfg.k, treeOptions: cfg.treeOptions ?? LEGACY_TREE_OPTIONS };
  const features = setFeatures(scan, opts);
  if (cfg.treeInput === false) zeroTreeInput(features);
  const graph = tokenGraph(features.pairs, scan.models.length);
  const tensors = encoderTensors(scan, undefined, undefined, cfg.maxTensors);
  const scales = new Float32Array(features.pairs.length * tensors.length);
  features.pairs.forEach((p, i) =>
    tensors.forEach((t, j) => {
      if (t.models.includes(p.a) && t.models.includes(p.b)) scales[i * tensors.length + j] = pairScale(t, p.a, p.b);
    }),
  );
  const out: PreparedSet = { name, set, scan, features, graph, tensors, scales, tensorFeatures: tensorFeatures(features.pairs, tensors, scan.models.length) };
  if (set.lineage) out.parent = parentsOf(scan, set.lineage);
  return out;
}

/** The ablation without the additive tree's answer: its feature columns set to 0. */
function zeroTreeInput(f: SetFeatures): void {
  const zero = (data: Float32Array, names: readonly string[], own: readonly string[]) => {
    const cols = own.map((n) => names.indexOf(n));
    for (let r = 0; r < data.length / names.length; r++) for (const c of cols) data[r * names.length + c] = 0;
  };
  zero(f.edge, EDGE_FEATURES, TREE_EDGE_FEATURES);
  zero(f.node, NODE_FEATURES, TREE_NODE_FEATURES);
}

export function parentsOf(scan: ScanResult, lineage: Lineage): Int32Array {
  const index = new Map(scan.models.map((m, i) => [m.id, i]));
  const parent = new Int32Array(scan.models.length).fill(-1);
  for (const e of lineage.edges) {
    const c = index.get(e.child);
    const p = index.get(e.parent);
    if (c !== undefined && p !== undefined) parent[c] = p;
  }
  return parent;
}

/** Opens and scans a zoo (a directory with lineage.json). */
export async function loadZoo(dir: string, cfg: DetectorConfig, scanThreads?: number): Promise<PreparedSet> {
  const set = await openModels([dir]);
  if (!set.lineage) throw new InvalidArgumentError('E_INVALID_ARG', `${dir}: no lineage.json (a training zoo needs its ground truth)`, { file: dir });
  const scan = await scanModelSet(set, { threads: scanThreads });
  return prepareSet(dir, set, scan, cfg);
}

/** The paper's protocol: children split train/val/test 7:1:2 (seeded); roots are always 'root'. */
export function splitChildren(parent: Int32Array, rng: Mulberry32Rng, fractions = [0.7, 0.1, 0.2]): Role[] {
  const roles: Role[] = Array.from(parent, (p) => (p < 0 ? 'root' : 'train'));
  const children = [...parent.keys()].filter((m) => parent[m] >= 0);
  for (let i = children.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [children[i], children[j]] = [children[j], children[i]];
  }
  const nTest = Math.round(children.length * fractions[2]);
  const nVal = Math.max(1, Math.round(children.length * fractions[1]));
  children.forEach((m, i) => (roles[m] = i < nTest ? 'test' : i < nTest + nVal ? 'val' : 'train'));
  return roles;
}

/** Weights of the encoder tensors of every model, as float32 (small models only: training). */
export class WeightCache {
  private cache = new Map<string, Float32Array>();
  constructor(private readonly set: ModelSet) {}
  get(model: number, name: string): Float32Array {
    const key = `${model}\u0000${name}`;
    let v = this.cache.get(key);
    if (!v) {
      const e = this.set.models[model].tensors.find((t) => t.name === name);
      if (!e) throw new InvalidArgumentError('E_INVALID_ARG', `${this.set.models[model].id}: no tensor ${name}`, { tensor: name });
      v = readTensorValues(e); // any weight format; GGUF dequantized
      this.cache.set(key, v);
    }
    return v;
  }
}

export interface Window {
  r0: number;
  c0: number;
  h: number;
  w: number;
}

/** A random crop of a matrix (same place for every pair of a step). */
export function randomWindow(rows: number, cols: number, cfg: DetectorConfig, rng: Mulberry32Rng): Window {
  const h = Math.min(rows, cfg.cropRows);
  const w = Math.min(cols, cfg.cropCols);
  return { r0: rng.int(rows - h + 1), c0: rng.int(cols - w + 1), h, w };
}

/** Window inputs [N, h+2, w+2, 2] (real neighbours around the crop) and the mask of the matrix. */
export function windowInputs(ps: PreparedSet, cache: WeightCache, t: number, win: Window): { x: tf.Tensor4D; mask: tf.Tensor4D; rows: number[] } {
  const tensor = ps.tensors[t];
  const { rows, cols } = tensorInfo(tensor);
  const H = win.h + 2;
  const W = win.w + 2;
  const T = ps.tensors.length;
  const used = ps.features.pairs.map((_, i) => i).filter((i) => ps.scales[i * T + t] > 0);
  const x = new Float32Array(used.length * H * W * 2);
  const m = new Float32Array(H * W);
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    const r = win.r0 - 1 + i;
    const c = win.c0 - 1 + j;
    if (r >= 0 && r < rows && c >= 0 && c < cols) m[i * W + j] = 1;
  }
  used.forEach((pi, n) => {
    const p = ps.features.pairs[pi];
    const A = cache.get(p.a, tensor.name);
    const B = cache.get(p.b, tensor.name);
    const inv = 1 / ps.scales[pi * T + t];
    const base = n * H * W * 2;
    for (let i = 0; i < H; i++) {
      const r = win.r0 - 1 + i;
      if (r < 0 || r >= rows) continue;
      for (let j = 0; j < W; j++) {
        const c = win.c0 - 1 + j;
        if (c < 0 || c >= cols) continue;
        const q = base + (i * W + j) * 2;
        x[q] = A[r * cols + c] * inv;
        x[q + 1] = B[r * cols + c] * inv;
      }
    }
  });
  return { x: tf.tensor4d(x, [used.length, H, W, 2]), mask: tf.tensor4d(m, [1, H, W, 1]), rows: used };
}

/**
 * Per pair, one token per tensor: encoder output (or zeros) + type embedding + a projection
 * of the tensor's scalar features; pooled (mean) over the tensors the pair has → [P, 32].
 */
export function poolTokens(ps: PreparedSet, perTensor: tf.Tensor3D | null, present: Float32Array, typeEmb: tf.Tensor2D, tensorIn: tf.Tensor2D): tf.Tensor2D {
  const P = ps.features.pairs.length;
  const T = ps.tensors.length;
  const K = TENSOR_FEATURES.length;
  if (T === 0) return tf.zeros([P, LATENT]);
  const types = ps.tensors.map((t) => tensorInfo(t).type);
  // One-hot product instead of gather: the wasm backend has no gradient kernel for gather.
  const emb = tf.matMul(tf.oneHot(tf.tensor1d(types, 'int32'), typeEmb.shape[0]).toFloat(), typeEmb);
  const feat = tf.reshape(tf.matMul(tf.tensor2d(ps.tensorFeatures, [P * T, K]), tensorIn), [P, T, LATENT]);
  let tok = tf.add(feat, tf.expandDims(emb, 0));
  if (perTensor) tok = tf.add(tok, perTensor);
  const w = tf.tensor3d(present, [P, T, 1]);
  const count = tf.maximum(tf.sum(w, 1), 1);
  return tf.div(tf.sum(tf.mul(tok, w), 1), count) as tf.Tensor2D;
}

/** Which pair × tensor slots exist (the pair's models both have the tensor). */
export function presentSlots(ps: PreparedSet): Float32Array {
  return Float32Array.from(ps.scales, (s) => (s > 0 ? 1 : 0));
}

/**
 * Encoder output per pair from crops: `crops` windows per tensor averaged (training: one,
 * with batch statistics; validation: several fixed ones with the running statistics).
 */
export function encodeFromCrops(ps: PreparedSet, cache: WeightCache, enc: EncoderVars, cfg: DetectorConfig, rng: Mulberry32Rng, training: boolean, crops: number, stats?: { mean: tf.Tensor1D; variance: tf.Tensor1D }[]): tf.Tensor3D {
  const P = ps.features.pairs.length;
  const T = ps.tensors.length;
  const columns: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const { rows, cols } = tensorInfo(ps.tensors[t]);
    let sum: tf.Tensor2D | null = null;
    let used: number[] = [];
    for (let c = 0; c < crops; c++) {
      const win = randomWindow(rows, cols, cfg, rng);
      const inp = windowInputs(ps, cache, t, win);
      used = inp.rows;
      const r = encodeWindows(enc, inp.x, inp.mask, training);
      if (stats && r.batchMean && r.batchVar) stats.push({ mean: tf.keep(r.batchMean.clone()), variance: tf.keep(r.batchVar.clone()) });
      sum = sum ? (tf.add(sum, r.out) as tf.Tensor2D) : r.out;
    }
    const mean = tf.div(sum!, crops) as tf.Tensor2D;
    // Scatter back to all P pairs (pairs without the tensor get zeros, masked in pooling).
    const full = used.length === P ? mean : (tf.scatterND(tf.tensor2d(used, [used.length, 1], 'int32'), mean, [P, LATENT]) as tf.Tensor2D);
    columns.push(full);
  }
  return tf.stack(columns, 1) as tf.Tensor3D;
}

/** Everything but the encoder output, as tensors. */
export function setTensors(ps: PreparedSet, encoded: tf.Tensor2D): SetInputs {
  const P = ps.features.pairs.length;
  const M = ps.scan.models.length;
  const F = EDGE_FEATURES.length;
  return {
    encoded,
    edge: tf.tensor2d(ps.features.edge, [P, F]),
    node: tf.tensor2d(ps.features.node, [M, ps.features.node.length / M]),
    src: tf.tensor1d(ps.features.pairs.map((p) => p.a), 'int32'),
    dst: tf.tensor1d(ps.features.pairs.map((p) => p.b), 'int32'),
    mask: tf.tensor2d(ps.graph.mask, [ps.graph.tokens, ps.graph.tokens]),
  };
}
