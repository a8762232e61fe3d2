/**
 * The forest as every renderer draws it: one tree edge per child, families grouped and ordered,
 * roots and children in a fixed order. Computing it once keeps text, DOT and HTML in agreement
 * (same family numbers, same order) and makes them robust to results that are not a clean
 * forest (a child with two parents, a cycle, an edge naming an unknown model), which a hand-made
 * or foreign JSON file may contain.
 */
import type { DetectedEdge, DetectedModel, DetectionResult } from '../detect/types';
import { KeyedUnionFind } from '../graph/union-find';
import { naturalCompare } from './format';

export interface ForestNode {
  id: string;
  /** Absent when only an edge names this id. */
  model?: DetectedModel;
  /** The edge from this node's parent in the drawn tree; absent for roots. */
  edge?: DetectedEdge;
  children: ForestNode[];
  /** 0 for a root. */
  depth: number;
}

export interface FamilyView {
  /** 1-based, in display order. */
  number: number;
  /** Members in drawing order (depth-first from the roots). */
  ids: string[];
  /** Usually one root; several when the result's families join trees that no edge connects. */
  trees: ForestNode[];
}

export interface ForestView {
  /** Groups of two or more models, largest first. */
  families: FamilyView[];
  /** Models with neither parent nor child nor family companion, in natural id order. */
  unrelated: ForestNode[];
  /** Edges not drawn as tree edges: a second parent of a child, or the edge that closes a cycle. */
  extraEdges: DetectedEdge[];
  /** id → family number (unrelated models get none). */
  familyOf: Map<string, number>;
  nodes: Map<string, ForestNode>;
}

const byScoreThenId = (a: ForestNode, b: ForestNode): number => {
  const sa = a.model?.score ?? NaN;
  const sb = b.model?.score ?? NaN;
  // NaN scores sort last: a model without a score is the least certain root.
  if (sa !== sb && !(Number.isNaN(sa) && Number.isNaN(sb))) {
    if (Number.isNaN(sa)) return 1;
    if (Number.isNaN(sb)) return -1;
    return sa < sb ? -1 : 1;
  }
  return naturalCompare(a.id, b.id);
};

export function buildForest(result: DetectionResult): ForestView {
  const nodes = new Map<string, ForestNode>();
  const node = (id: string): ForestNode => {
    let n = nodes.get(id);
    if (!n) {
      n = { id, children: [], depth: 0 };
      nodes.set(id, n);
    }
    return n;
  };
  for (const m of result.models) node(m.id).model = m;

  // First edge into a child wins, as listed by the method; any other is shown separately.
  const extraEdges: DetectedEdge[] = [];
  for (const e of result.edges) {
    const child = node(e.child);
    node(e.parent);
    if (child.edge || e.parent === e.child) extraEdges.push(e);
    else child.edge = e;
  }

  // Grouping: union of tree edges and the result's own families, so neither can split a group.
  const sets = new KeyedUnionFind<string>();
  for (const n of nodes.values()) if (n.edge) sets.union(n.edge.parent, n.id);
  for (const fam of result.families ?? []) {
    const members = fam.filter((id) => nodes.has(id));
    for (const id of members.slice(1)) sets.union(members[0], id);
  }
  // Groups come out in the order of their first node, whichever member represents them.
  const groups = new Map<number, ForestNode[]>();
  for (const n of nodes.values()) {
    const r = sets.find(n.id);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(n);
  }

  for (const n of nodes.values()) if (n.edge) nodes.get(n.edge.parent)!.children.push(n);
  for (const n of nodes.values()) n.children.sort((a, b) => naturalCompare(a.id, b.id));

  const views: { trees: ForestNode[]; ids: string[] }[] = [];
  const unrelated: ForestNode[] = [];
  for (const members of groups.values()) {
    if (members.length === 1) {
      unrelated.push(members[0]);
      continue;
    }
    const trees = members.filter((n) => !n.edge).sort(byScoreThenId);
    const ids: string[] = [];
    const seen = new Set<string>();
    const walk = (n: ForestNode, depth: number): void => {
      seen.add(n.id);
      n.depth = depth;
      ids.push(n.id);
      for (const c of n.children) walk(c, depth + 1);
    };
    for (const t of trees) walk(t, 0);
    // Members on a cycle hang from no root: cut the cycle at its lowest-score member.
    for (;;) {
      const left = members.filter((n) => !seen.has(n.id)).sort(byScoreThenId);
      if (left.length === 0) break;
      const cut = left[0];
      const p = nodes.get(cut.edge!.parent)!;
      p.children = p.children.filter((c) => c !== cut);
      extraEdges.push(cut.edge!);
      delete cut.edge;
      trees.push(cut);
      walk(cut, 0);
    }
    views.push({ trees, ids });
  }
  views.sort((a, b) => b.ids.length - a.ids.length || naturalCompare(a.trees[0].id, b.trees[0].id));
  unrelated.sort((a, b) => naturalCompare(a.id, b.id));

  const familyOf = new Map<string, number>();
  const families = views.map((v, i) => {
    for (const id of v.ids) familyOf.set(id, i + 1);
    return { number: i + 1, ids: v.ids, trees: v.trees };
  });
  return { families, unrelated, extraEdges, familyOf, nodes };
}
