/** Spanning forests, connected components and label/group conversions over index graphs. */
import { UnionFind } from './union-find';

export interface UndirectedEdge {
  a: number;
  b: number;
  weight: number;
}

/**
 * Kruskal's minimum spanning forest over `nodes`, using only edges lighter than `tau`
 * (equivalently: the minimum spanning tree with a virtual root joined to every node at cost
 * τ, minus the virtual root). Equal weights are broken by node indices for determinism.
 */
export function minimumSpanningForest(dist: number[][], nodes: number[], tau = Infinity): UndirectedEdge[] {
  const candidates: UndirectedEdge[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const w = dist[nodes[i]][nodes[j]];
      if (Number.isFinite(w) && w < tau) candidates.push({ a: nodes[i], b: nodes[j], weight: w });
    }
  }
  candidates.sort((x, y) => x.weight - y.weight || x.a - y.a || x.b - y.b);
  const uf = new UnionFind(dist.length);
  const out: UndirectedEdge[] = [];
  for (const e of candidates) if (uf.union(e.a, e.b)) out.push(e);
  return out;
}

/** Connected components of a parent array (a forest), each sorted, in order of first member. */
export function forestComponents(parent: ArrayLike<number>): number[][] {
  const uf = new UnionFind(parent.length);
  for (let v = 0; v < parent.length; v++) if (parent[v] >= 0) uf.union(v, parent[v]);
  return groupBy(uf, parent.length);
}

/** Components of the graph whose edges are the pairs with finite distance below `tau`. */
export function thresholdComponents(dist: number[][], tau = Infinity): number[][] {
  const n = dist.length;
  const uf = new UnionFind(n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (Number.isFinite(dist[i][j]) && dist[i][j] < tau) uf.union(i, j);
  return groupBy(uf, n);
}

function groupBy(uf: UnionFind, n: number): number[][] {
  const byRoot = new Map<number, number[]>();
  for (let v = 0; v < n; v++) {
    const r = uf.find(v);
    const list = byRoot.get(r);
    if (list) list.push(v);
    else byRoot.set(r, [v]);
  }
  return [...byRoot.values()];
}

/** Labels 0..k-1 from groups. */
export function labelsFromGroups(groups: number[][], n: number): Int32Array {
  const labels = new Int32Array(n).fill(-1);
  groups.forEach((g, i) => g.forEach((v) => (labels[v] = i)));
  return labels;
}

/** Groups from labels (label -1 = each its own group), in order of first member. */
export function groupsFromLabels(labels: ArrayLike<number>): number[][] {
  const map = new Map<number, number[]>();
  const out: number[][] = [];
  for (let v = 0; v < labels.length; v++) {
    if (labels[v] < 0) {
      out.push([v]);
      continue;
    }
    const g = map.get(labels[v]);
    if (g) g.push(v);
    else {
      const fresh = [v];
      map.set(labels[v], fresh);
      out.push(fresh);
    }
  }
  return out;
}

/** Is `parent` a forest (no cycles)? */
export function isForest(parent: ArrayLike<number>): boolean {
  const n = parent.length;
  const state = new Uint8Array(n);
  for (let v = 0; v < n; v++) {
    const path: number[] = [];
    let x = v;
    while (x >= 0 && state[x] === 0) {
      state[x] = 1;
      path.push(x);
      x = parent[x];
    }
    if (x >= 0 && state[x] === 1) return false;
    for (const p of path) state[p] = 2;
  }
  return true;
}
