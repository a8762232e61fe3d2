/**
 * The best learning-free answer as detector input: lib/detect's `additive-tree` forest, seen
 * from each candidate pair and each model. With a few dozen labelled children per zoo the
 * detector cannot learn the tree structure from scratch reliably; given the additive tree's
 * decision (and how sure it was, and what re-hanging a child elsewhere would cost the tree
 * fit), it has to learn only when to override it.
 */
import { additiveCost, fillMissing, type TreeEdge } from '../graph';
import { detect } from '../detect/detect';
import { squaredDistancesOver } from '../detect/distances';
import type { TreeRootOptions } from './model';
import type { DetectionResult } from '../detect/types';
import type { DetectOptions } from '../detect/options';
import type { ScanResult, ScanTensor } from '../scan/types';
import type { Pair } from './features';

export const TREE_EDGE_FEATURES = [
  'at-parent', 'at-reverse', 'at-sibling', 'at-grandparent', 'at-descendant', 'at-same-family',
  'at-confidence', 'at-direction', 'at-rehang-cost',
] as const;
export const TREE_NODE_FEATURES = ['at-root', 'at-children', 'at-root-direction'] as const;

export interface TreeView {
  /** The additive tree's parent per model (-1: a root). */
  parent: Int32Array;
  /** Its families (model indices). */
  families: number[][];
  /** Per child: the edge's confidence and its direction part (0 for roots). */
  confidence: Float64Array;
  direction: Float64Array;
}

/**
 * The additive-tree options a detector's recorded tree options stand for: each option absent
 * from an older file reads as what detectors were trained with before it existed (so their
 * features are computed as in training), never as today's default. The one place these
 * legacy readings are written: inference and the loader's validation (store.ts) both use it.
 */
export function treeDetectOptions(o: TreeRootOptions): DetectOptions {
  return {
    method: 'additive-tree',
    familyFlip: o.familyFlip,
    familyNoise: o.familyNoise,
    evidenceTemper: o.evidenceTemper ?? 1,
    fakeInitAbstain: o.fakeInitAbstain ?? null,
    treeModel: o.treeModel ?? 'shared-drift',
    tinyStep: o.tinyStep ?? null,
    unchangedTensors: o.unchangedTensors ?? 'ignore',
    nearTwins: o.nearTwins ?? 'ignore',
    forgetting: o.forgetting ?? 'ignore',
    tensorMajority: o.tensorMajority ?? 'ignore',
    // Every detector was trained on confidences taken with the scan's error rates, so its
    // features keep them (held-out rates change confidences only, never the tree).
    confidenceRates: 'scan',
  };
}

export function additiveTreeView(scan: ScanResult, result?: DetectionResult, rootOptions?: TreeRootOptions): TreeView {
  // Recorded options as the detector was trained with them (treeDetectOptions: legacy
  // readings of options an older file lacks); none: today's defaults.
  const r = result ?? detect(scan, rootOptions ? treeDetectOptions(rootOptions) : { method: 'additive-tree' });
  const M = scan.models.length;
  const index = new Map(scan.models.map((m, i) => [m.id, i]));
  const parent = new Int32Array(M).fill(-1);
  const confidence = new Float64Array(M);
  const direction = new Float64Array(M);
  for (const e of r.edges) {
    const c = index.get(e.child)!;
    parent[c] = index.get(e.parent)!;
    confidence[c] = e.confidence;
    direction[c] = e.confidenceParts?.direction ?? e.confidence;
  }
  return { parent, families: r.families.map((f) => f.map((id) => index.get(id)!)), confidence, direction };
}

function isAncestor(parent: Int32Array, x: number, y: number): boolean {
  for (let v = parent[y]; v >= 0; v = parent[v]) if (v === x) return true;
  return false;
}

/**
 * Per pair a→b inside one additive-tree family: 0.5·log of the tree criterion with b's
 * subtree re-hung under a over the criterion of the additive tree itself (0 for the tree's
 * own edge, > 0 where the move fits the distances worse). Pairs across families, or with a
 * in b's subtree (a cycle), get 0 and are told apart by the flags.
 */
function rehangCosts(tensors: ScanTensor[], pairs: Pair[], view: TreeView): Float64Array {
  const out = new Float64Array(pairs.length);
  const familyOf = new Int32Array(view.parent.length).fill(-1);
  view.families.forEach((f, k) => f.forEach((m) => (familyOf[m] = k)));
  const cache = new Map<number, { d2: Float64Array; local: Map<number, number>; edges: TreeEdge[]; base: number; floor: number }>();
  const familyFit = (k: number) => {
    let v = cache.get(k);
    if (!v) {
      const f = view.families[k];
      const d2 = fillMissing(squaredDistancesOver(tensors, f, { metric: 'euclidean', normalize: 'none', combine: 'sum' }).d2, f.length);
      const local = new Map(f.map((m, i) => [m, i]));
      const edges = f.filter((m) => view.parent[m] >= 0).map((m) => ({ a: local.get(view.parent[m])!, b: local.get(m)! }));
      let scale = 0;
      for (let i = 0; i < d2.length; i++) if (Number.isFinite(d2[i])) scale += d2[i] * d2[i];
      // A floor: a criterion of 0 (a perfect tree) must not make every ratio infinite.
      v = { d2, local, edges, base: additiveCost(d2, f.length, edges), floor: 1e-6 * scale };
      cache.set(k, v);
    }
    return v;
  };
  pairs.forEach((p, i) => {
    const k = familyOf[p.b];
    if (k < 0 || familyOf[p.a] !== k || view.families[k].length < 3 || isAncestor(view.parent, p.b, p.a)) return;
    const fit = familyFit(k);
    const a = fit.local.get(p.a)!;
    const b = fit.local.get(p.b)!;
    const edges = fit.edges.filter((e) => e.b !== b).concat(view.parent[p.b] >= 0 ? [{ a, b }] : []);
    // A root re-hung under a model of its own family is a cycle (handled above); nothing else.
    if (edges.length !== fit.edges.length) return;
    const cost = additiveCost(fit.d2, view.families[k].length, edges);
    out[i] = 0.5 * Math.log((cost + fit.floor) / (fit.base + fit.floor));
  });
  return out;
}

/** [P × TREE_EDGE_FEATURES] and [M × TREE_NODE_FEATURES]. */
export function treeFeatures(tensors: ScanTensor[], pairs: Pair[], view: TreeView): { edge: Float64Array[]; node: Float64Array[] } {
  const M = view.parent.length;
  const familyOf = new Int32Array(M).fill(-1);
  view.families.forEach((f, k) => f.forEach((m) => (familyOf[m] = k)));
  const children = new Float64Array(M);
  for (let m = 0; m < M; m++) if (view.parent[m] >= 0) children[view.parent[m]]++;
  const rehang = rehangCosts(tensors, pairs, view);
  const P = view.parent;
  const edge = pairs.map((p, i) => Float64Array.from([
    P[p.b] === p.a ? 1 : 0,
    P[p.a] === p.b ? 1 : 0,
    P[p.a] >= 0 && P[p.a] === P[p.b] ? 1 : 0,
    P[p.b] >= 0 && P[P[p.b]] === p.a ? 1 : 0,
    isAncestor(P, p.b, p.a) ? 1 : 0,
    familyOf[p.a] === familyOf[p.b] ? 1 : 0,
    P[p.b] === p.a ? view.confidence[p.b] : 0,
    P[p.b] === p.a ? view.direction[p.b] : 0,
    Math.min(rehang[i], 10),
  ]));
  // A root's own direction certainty: how sure the tree was that its children are its children.
  const rootDirection = new Float64Array(M);
  for (let m = 0; m < M; m++) if (P[m] >= 0 && P[P[m]] < 0) rootDirection[P[m]] = Math.max(rootDirection[P[m]], view.direction[m]);
  const node = [...Array(M).keys()].map((m) => Float64Array.from([P[m] < 0 ? 1 : 0, Math.min(children[m], 8), rootDirection[m]]));
  return { edge, node };
}
