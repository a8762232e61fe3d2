/**
 * Orienting a whole family at once (measured to beat per-edge decisions). Given an undirected tree,
 * every choice of root orients all its edges; we take the root for which the most edges go
 * from lower to higher score. One noisy score then cannot flip a single edge against the rest
 * of its family, which is what per-edge decisions suffer from.
 */
import type { UndirectedEdge } from '../graph/components';

export interface Orientation {
  root: number;
  /** Edges that agree with the score under this root. */
  agree: number;
  edges: number;
}

function adjacency(nodes: number[], edges: UndirectedEdge[]): Map<number, number[]> {
  const adj = new Map<number, number[]>();
  for (const v of nodes) adj.set(v, []);
  for (const e of edges) {
    adj.get(e.a)!.push(e.b);
    adj.get(e.b)!.push(e.a);
  }
  return adj;
}

/**
 * The best root of one tree (nodes connected by edges). Agreement for every root comes from
 * one traversal plus rerooting: moving the root across an edge flips only that edge. Ties go
 * to the larger total score rise along the edges, then the lower score, then the lower index.
 */
export function bestRoot(nodes: number[], edges: UndirectedEdge[], score: ArrayLike<number>): Orientation {
  if (nodes.length === 1) return { root: nodes[0], agree: 0, edges: 0 };
  const adj = adjacency(nodes, edges);
  const sign = (u: number, v: number) => (score[u] < score[v] ? 1 : 0);
  const start = nodes[0];
  const order: number[] = [start];
  const parent = new Map<number, number>([[start, -1]]);
  for (let i = 0; i < order.length; i++) {
    const u = order[i];
    for (const v of adj.get(u)!) {
      if (!parent.has(v)) {
        parent.set(v, u);
        order.push(v);
      }
    }
  }
  let agree0 = 0;
  let rise0 = 0;
  for (const v of order) {
    const p = parent.get(v)!;
    if (p >= 0) {
      agree0 += sign(p, v);
      rise0 += score[v] - score[p];
    }
  }
  const agree = new Map<number, number>([[start, agree0]]);
  const rise = new Map<number, number>([[start, rise0]]);
  for (const v of order) {
    const p = parent.get(v)!;
    if (p < 0) continue;
    agree.set(v, agree.get(p)! - sign(p, v) + sign(v, p));
    rise.set(v, rise.get(p)! - 2 * (score[v] - score[p]));
  }
  const tol = 1e-12 * (Math.abs(rise0) + 1);
  const better = (v: number, b: number): boolean => {
    const av = agree.get(v)!;
    const ab = agree.get(b)!;
    if (av !== ab) return av > ab;
    const dr = rise.get(v)! - rise.get(b)!;
    if (Math.abs(dr) > tol) return dr > 0;
    if (score[v] !== score[b]) return score[v] < score[b];
    return v < b;
  };
  let best = start;
  for (const v of nodes) if (better(v, best)) best = v;
  return { root: best, agree: agree.get(best)!, edges: nodes.length - 1 };
}

/** Parent pointers (-1 at the root) of a tree rooted at `root`, written into `parent`. */
export function rootTree(root: number, nodes: number[], edges: UndirectedEdge[], parent: Int32Array): void {
  const adj = adjacency(nodes, edges);
  parent[root] = -1;
  const seen = new Set<number>([root]);
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i];
    for (const v of adj.get(u)!) {
      if (!seen.has(v)) {
        seen.add(v);
        parent[v] = u;
        queue.push(v);
      }
    }
  }
}

/** Splits a forest's edges into trees over `nodes`: [nodes, edges] per tree. */
export function trees(nodes: number[], edges: UndirectedEdge[]): { nodes: number[]; edges: UndirectedEdge[] }[] {
  const adj = adjacency(nodes, edges);
  const seen = new Set<number>();
  const out: { nodes: number[]; edges: UndirectedEdge[] }[] = [];
  for (const s of nodes) {
    if (seen.has(s)) continue;
    const comp: number[] = [s];
    seen.add(s);
    for (let i = 0; i < comp.length; i++) {
      for (const v of adj.get(comp[i])!) {
        if (!seen.has(v)) {
          seen.add(v);
          comp.push(v);
        }
      }
    }
    const members = new Set(comp);
    out.push({ nodes: comp, edges: edges.filter((e) => members.has(e.a)) });
  }
  return out;
}

/** Orients every tree of a forest as a whole; returns parent pointers over all `n` nodes. */
export function orientForest(n: number, nodes: number[], edges: UndirectedEdge[], score: ArrayLike<number>): Int32Array {
  const parent = new Int32Array(n).fill(-1);
  for (const t of trees(nodes, edges)) rootTree(bestRoot(t.nodes, t.edges, score).root, t.nodes, t.edges, parent);
  return parent;
}

/**
 * Chooses the score's sign from the shapes of the trees, for scores whose sign theory does
 * not fix (kurtosis). A node with two or more children must be a local minimum of a correctly
 * signed score, so branching trees admit a consistent rooting under one sign only; chains
 * admit both. Sums the best agreement over trees for each sign; null when they tie.
 */
export function chooseSign(nodes: number[], edges: UndirectedEdge[], score: ArrayLike<number>): { sign: 1 | -1 | null; agree: number; agreeReversed: number } {
  const neg = Array.from(score as ArrayLike<number>, (s) => -s);
  let plus = 0;
  let minus = 0;
  for (const t of trees(nodes, edges)) {
    plus += bestRoot(t.nodes, t.edges, score).agree;
    minus += bestRoot(t.nodes, t.edges, neg).agree;
  }
  return { sign: plus > minus ? 1 : minus > plus ? -1 : null, agree: plus, agreeReversed: minus };
}
