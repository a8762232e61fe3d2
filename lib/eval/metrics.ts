/**
 * Scores a detection against ground truth (lineage.json). Edges are directed parent→child;
 * only models the truth knows are scored (a prediction about a model outside it can be
 * neither right nor wrong).
 */
import type { DetectionResult } from '../detect/types';
import type { Lineage } from '../io/types';
import { KeyedUnionFind } from '../graph/union-find';
import { adjustedRandIndex } from './ari';
import { EDGE_TYPES, edgeTypeOf, type EdgeType } from '../io/edge-types';

/** Rows: the true type of an edge ('none': a predicted edge the truth does not have). Columns:
 * the predicted type ('missed': the true pair was not predicted in either direction). */
export type TypeConfusion = Record<EdgeType | 'none', Record<EdgeType | 'missed', number>>;

export interface TypedMetrics {
  /** Share of true edges found with the right direction and the right type. */
  typedEdgeAccuracy: number;
  /** Among true children with two or more parents (merges): the share whose every parent was found; null without merges. */
  multiParentRecall: number | null;
  /** Predicted children with two or more merge parents whose true lineage is not a merge. */
  falseMerges: number;
  confusion: TypeConfusion;
}

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
  typed: TypedMetrics;
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
  // A duplicate's direction is undetermined by nature: either direction is right.
  const duplicatePairs = new Set(truth.edges.filter((e) => edgeTypeOf(e) === 'duplicate').map((e) => key(e.parent, e.child)));
  for (const k of trueEdges) {
    const [p, c] = JSON.parse(k) as [string, string];
    if (predicted.has(k) || (duplicatePairs.has(k) && predicted.has(key(c, p)))) correct++;
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
    typed: typedMetrics(result, truth, known),
    counts: { models: models.length, trueEdges: trueEdges.size, predictedEdges: predicted.size, correctEdges: correct, pairedEdges: paired, reversedEdges: reversed },
  };
}

/** Typed accuracy, multi-parent recall, false merges and the type confusion table. */
export function typedMetrics(result: DetectionResult, truth: Lineage, known: (id: string) => boolean = () => true): TypedMetrics {
  const key = (p: string, c: string) => JSON.stringify([p, c]);
  const predEdges = result.edges.filter((e) => known(e.parent) && known(e.child));
  const predByKey = new Map(predEdges.map((e) => [key(e.parent, e.child), e]));
  const confusion = {} as TypeConfusion;
  for (const t of [...EDGE_TYPES, 'none'] as const) {
    confusion[t] = {} as Record<EdgeType | 'missed', number>;
    for (const u of [...EDGE_TYPES, 'missed'] as const) confusion[t][u] = 0;
  }
  let typedRight = 0;
  const matched = new Set<string>();
  for (const e of truth.edges) {
    const t = edgeTypeOf(e);
    const same = predByKey.get(key(e.parent, e.child));
    const back = predByKey.get(key(e.child, e.parent));
    const hit = same ?? back;
    if (hit) {
      matched.add(key(hit.parent, hit.child));
      confusion[t][edgeTypeOf(hit)]++;
    } else confusion[t].missed++;
    const directed = same ?? (t === 'duplicate' ? back : undefined);
    if (directed && edgeTypeOf(directed) === t) typedRight++;
  }
  for (const e of predEdges) if (!matched.has(key(e.parent, e.child))) confusion.none[edgeTypeOf(e)]++;

  const parentsOf = (edges: readonly { parent: string; child: string; type?: EdgeType }[], onlyMerge: boolean) => {
    const m = new Map<string, Set<string>>();
    for (const e of edges) {
      if (onlyMerge && edgeTypeOf(e) !== 'merge') continue;
      if (!m.has(e.child)) m.set(e.child, new Set());
      m.get(e.child)!.add(e.parent);
    }
    return m;
  };
  const trueParents = parentsOf(truth.edges, false);
  const predParents = parentsOf(predEdges, false);
  const trueMulti = [...trueParents].filter(([, ps]) => ps.size >= 2);
  const found = trueMulti.filter(([c, ps]) => [...ps].every((p) => predParents.get(c)?.has(p))).length;
  const falseMerges = [...parentsOf(predEdges, true)].filter(([c, ps]) => ps.size >= 2 && (trueParents.get(c)?.size ?? 0) < 2).length;
  return {
    typedEdgeAccuracy: truth.edges.length > 0 ? typedRight / truth.edges.length : predEdges.length === 0 ? 1 : 0,
    multiParentRecall: trueMulti.length > 0 ? found / trueMulti.length : null,
    falseMerges,
    confusion,
  };
}

/** The confusion table as fixed-width text (rows: true type, columns: detected type). */
export function formatConfusion(c: TypeConfusion): string {
  const cols = [...EDGE_TYPES, 'missed'] as const;
  const rows = ([...EDGE_TYPES, 'none'] as const).filter((r) => cols.some((k) => c[r][k] > 0));
  const w = 10;
  const head = `${'true \\ found'.padEnd(13)}${cols.map((k) => k.padStart(w)).join('')}`;
  return [head, ...rows.map((r) => `${r.padEnd(13)}${cols.map((k) => String(c[r][k]).padStart(w)).join('')}`)].join('\n');
}
