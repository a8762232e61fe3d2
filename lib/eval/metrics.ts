/**
 * Scores a detection against ground truth (lineage.json). Edges are directed parent→child;
 * only models the truth knows are scored (a prediction about a model outside it can be
 * neither right nor wrong).
 */
import type { DetectionResult } from '../detect/types';
import type { Lineage } from '../io/types';
import { KeyedUnionFind } from '../graph/union-find';
import { adjustedRandIndex } from './ari';

export interface EvalMetrics {
  /** Share of true parent→child edges found with the right direction (= recall; the paper's accuracy). */
  edgeAccuracy: number;
  /** Correct directed edges / predicted edges (1 when nothing was predicted and nothing was true). */
  precision: number;
  /** Correct directed edges / true edges (1 when there are no true edges and none predicted). */
  recall: number;
  f1: number;
  /** Among true edges whose pair was predicted in some direction, the share with the right
   * direction; null when no pair was matched. */
  directionAccuracy: number | null;
  /** Adjusted Rand index of predicted families against true families. */
  ari: number;
  counts: {
    models: number;
    trueEdges: number;
    predictedEdges: number;
    correctEdges: number;
    /** True edges predicted with either direction. */
    pairedEdges: number;
    /** True edges predicted reversed. */
    reversedEdges: number;
  };
}

/** Truth families: the given ones, merged with the connected groups of the true edges. */
function truthFamilies(truth: Lineage): Map<string, number> {
  const label = new Map<string, number>();
  const sets = new KeyedUnionFind<string>();
  for (const f of truth.families) {
    f.forEach((x) => sets.add(x));
    for (let i = 1; i < f.length; i++) sets.union(f[0], f[i]);
  }
  for (const e of truth.edges) {
    sets.add(e.parent);
    sets.add(e.child);
    sets.union(e.parent, e.child);
  }
  // Labels in the order each family's first model was seen.
  const ids = new Map<number, number>();
  for (const x of [...sets.keys()]) {
    const r = sets.find(x);
    if (!ids.has(r)) ids.set(r, ids.size);
    label.set(x, ids.get(r)!);
  }
  return label;
}

export function evaluate(result: DetectionResult, truth: Lineage): EvalMetrics {
  const truthLabel = truthFamilies(truth);
  const known = (id: string) => truthLabel.has(id);
  const key = (p: string, c: string) => JSON.stringify([p, c]);
  const trueEdges = new Set(truth.edges.map((e) => key(e.parent, e.child)));
  // Edges of families left undirected assert no direction: neither right nor reversed.
  const predicted = new Set(result.edges.filter((e) => !e.undirected && known(e.parent) && known(e.child)).map((e) => key(e.parent, e.child)));
  let correct = 0;
  let reversed = 0;
  for (const k of trueEdges) {
    const [p, c] = JSON.parse(k) as [string, string];
    if (predicted.has(k)) correct++;
    else if (predicted.has(key(c, p))) reversed++;
  }
  const precision = predicted.size > 0 ? correct / predicted.size : trueEdges.size === 0 ? 1 : 0;
  const recall = trueEdges.size > 0 ? correct / trueEdges.size : predicted.size === 0 ? 1 : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  const paired = correct + reversed;

  // Predicted families over the models the truth knows; a model the result omits is alone.
  const predLabel = new Map<string, string>();
  result.families.forEach((f, i) => f.forEach((id) => predLabel.set(id, `f${i}`)));
  const models = [...truthLabel.keys()];
  const ari = adjustedRandIndex(
    models.map((id) => predLabel.get(id) ?? `alone:${id}`),
    models.map((id) => truthLabel.get(id)!),
  );
  return {
    edgeAccuracy: recall,
    precision,
    recall,
    f1,
    directionAccuracy: paired > 0 ? correct / paired : null,
    ari,
    counts: { models: models.length, trueEdges: trueEdges.size, predictedEdges: predicted.size, correctEdges: correct, pairedEdges: paired, reversedEdges: reversed },
  };
}
