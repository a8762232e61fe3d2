/**
 * From token logits to a valid forest: per child, a softmax over its candidate parents and
 * its "no parent" option; then the minimum arborescence (lib/graph/edmonds.ts) under a
 * virtual root with edge costs −log p, i.e. the most probable forest without cycles.
 */
import * as tf from '@tensorflow/tfjs';
import { minimumArborescence, WeightedEdge } from '../graph';
import type { Pair } from './features';
import type { TokenGraph } from './graph';

/** Per model, its choices' probabilities (same order as graph.choices[m]). */
export function choiceProbabilities(logits: Float32Array, graph: TokenGraph): number[][] {
  return graph.choices.map((ch) => {
    const z = ch.map((i) => logits[i]);
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

export interface DecodedForest {
  parent: Int32Array;
  /** Probability the detector gave each chosen parent (or "no parent"). */
  confidence: Float64Array;
}

export function decodeForest(logits: Float32Array, graph: TokenGraph, pairs: Pair[], models: number): DecodedForest {
  const probs = choiceProbabilities(logits, graph);
  const root = models;
  const edges: WeightedEdge[] = [];
  const prob: number[] = [];
  for (let b = 0; b < models; b++) {
    graph.choices[b].forEach((tok, j) => {
      const p = probs[b][j];
      const from = tok < pairs.length ? pairs[tok].a : root;
      edges.push({ from, to: b, weight: -Math.log(Math.max(p, 1e-30)) });
      prob.push(p);
    });
  }
  const arb = minimumArborescence(models + 1, root, edges);
  const parent = new Int32Array(models).fill(-1);
  const confidence = new Float64Array(models);
  for (let b = 0; b < models; b++) {
    const e = arb.parentEdge[b];
    if (e >= 0) {
      parent[b] = arb.parent[b] === root ? -1 : arb.parent[b];
      confidence[b] = prob[e];
    }
  }
  return { parent, confidence };
}

/**
 * Softmax cross-entropy over each labelled model's choices. `target[m]`: the true parent's
 * model index, -1 for a root; models not in `labelled` are ignored, as are children whose
 * true parent is not a candidate (nothing to learn from them).
 */
export function choiceLoss(logits: tf.Tensor1D, graph: TokenGraph, pairs: Pair[], target: Int32Array, labelled: number[]): tf.Scalar | null {
  const rows: number[][] = [];
  const pos: number[] = [];
  for (const m of labelled) {
    const ch = graph.choices[m];
    const j = target[m] < 0 ? ch.length - 1 : ch.findIndex((tok) => tok < pairs.length && pairs[tok].a === target[m]);
    if (j < 0) continue;
    rows.push(ch);
    pos.push(j);
  }
  if (rows.length === 0) return null;
  const L = Math.max(...rows.map((r) => r.length));
  const idx = new Int32Array(rows.length * L);
  const pad = new Float32Array(rows.length * L);
  rows.forEach((r, i) => {
    for (let j = 0; j < L; j++) {
      idx[i * L + j] = j < r.length ? r[j] : r[0];
      pad[i * L + j] = j < r.length ? 0 : -1e9;
    }
  });
  // One-hot selection instead of gather: the wasm backend has no gradient kernel for gather.
  const pick = tf.oneHot(tf.tensor1d(idx, 'int32'), logits.shape[0]).toFloat() as tf.Tensor2D;
  const chosen = tf.matMul(pick, tf.reshape(logits, [-1, 1]) as tf.Tensor2D);
  const z = tf.add(tf.reshape(chosen, [rows.length, L]), tf.tensor2d(pad, [rows.length, L]));
  const logp = tf.logSoftmax(z);
  const onehot = tf.oneHot(tf.tensor1d(pos, 'int32'), L);
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), 1))) as tf.Scalar;
}

/** Share of `models` whose decoded parent is the true one (directed-edge accuracy over them). */
export function accuracyOver(parent: Int32Array, truth: Int32Array, models: number[]): number {
  if (models.length === 0) return NaN;
  return models.filter((m) => parent[m] === truth[m]).length / models.length;
}
