/**
 * The additive tree of a family: the undirected tree over its models whose path sums best
 * explain every pairwise squared distance.
 *
 * Why squared distances add along a tree: fine-tuning moves a model by an increment that is
 * nearly orthogonal to the increments before it and to those of its siblings (high-dimensional
 * updates driven by different data). Then for x an ancestor of y, and z any model,
 * ‖y − z‖² ≈ Σ ‖increment‖² over the tree path from y to z: the squared distance is a tree
 * metric whose vertices are the models themselves. Nearest-neighbour rules (spanning trees,
 * arborescences) look at one pair at a time and fail when a child that moved far is about as
 * near to a sibling that stayed close to the parent as to the parent itself; the path sums of
 * all pairs tell them apart, because hanging the far child on the sibling predicts its
 * distances to every other model too large by the sibling's own increment.
 *
 * Criterion: Σ over pairs (d²(x,y) − Σ_{edges e on the tree path} d²(e))², edge weights fixed
 * to the observed squared distances of their end points (no fitted lengths: every vertex is
 * observed). It does not depend on the root; rooting is left to the direction evidence
 * (root-posterior.ts).
 *
 * Search: best-improvement edge swaps (cut one edge, reconnect the two sides by any other
 * pair) from several starting trees, each swap priced in O(1) after O(n²) work per cut, so a
 * pass costs O(n³). Starting trees: the minimum spanning tree and stars around the most
 * central models (a base model with its fine-tunes is a star).
 */
import { additiveCost, adjacency, pathSums, type TreeEdge } from '../graph/tree-paths';

export type { TreeEdge };

export interface AdditiveTreeFit {
  /** Edges between local indices 0..n−1. */
  edges: TreeEdge[];
  /** The criterion at the fitted tree. */
  cost: number;
  /** The criterion of the best tree from each start (for diagnostics and tests). */
  startCosts: number[];
}

/**
 * Stars are tried around the most central models, as many as fit a budget of elementary
 * operations (a start costs up to n passes of O(n³)): around every model up to 35 models, 3
 * at 60, one from 85 on. A compute bound, not a tuning constant.
 */
const START_BUDGET = 5e7;
const starStarts = (n: number) => Math.max(1, Math.min(n, Math.floor(START_BUDGET / n ** 4)));

/** Marks the side of the cut edge (a,b) that contains a. */
function sideOf(adj: number[][], a: number, b: number, n: number): Uint8Array {
  const inA = new Uint8Array(n);
  inA[a] = 1;
  const stack = [a];
  while (stack.length > 0) {
    const u = stack.pop()!;
    for (const v of adj[u]) {
      if ((u === a && v === b) || inA[v]) continue;
      inA[v] = 1;
      stack.push(v);
    }
  }
  return inA;
}

interface Move {
  cut: number;
  x: number;
  y: number;
  gain: number;
}

/**
 * The best swap of one pass. Cutting edge (a,b) leaves path sums inside each side unchanged;
 * reconnecting by (x', y') gives every cross pair (x in A, y in B) the path sum
 * S[x,x'] + d²(x',y') + S[y',y], so the cross part of the criterion,
 * Σ (T − a_x − b_y − w)², expands into sums over A and over B that are computed once per cut.
 */
function bestMove(d2: Float64Array, n: number, edges: TreeEdge[]): Move | null {
  const S = pathSums(d2, n, edges);
  const adj = adjacency(n, edges);
  let best: Move | null = null;
  const rowT = new Float64Array(n);
  const Sa = new Float64Array(n);
  const Sa2 = new Float64Array(n);
  const SaT = new Float64Array(n);
  edges.forEach((e, cut) => {
    const inA = sideOf(adj, e.a, e.b, n);
    const A: number[] = [];
    const B: number[] = [];
    for (let v = 0; v < n; v++) (inA[v] ? A : B).push(v);
    let T2 = 0;
    let sumT = 0;
    rowT.fill(0);
    for (const x of A) {
      for (const y of B) {
        const t = d2[x * n + y];
        rowT[x] += t;
        rowT[y] += t;
        T2 += t * t;
        sumT += t;
      }
    }
    // For each candidate end point p: Σ over its own side of S, S² and S·(cross row sum).
    for (const side of [A, B]) {
      for (const p of side) {
        let s1 = 0;
        let s2 = 0;
        let sT = 0;
        for (const x of side) {
          const s = S[x * n + p];
          s1 += s;
          s2 += s * s;
          sT += s * rowT[x];
        }
        Sa[p] = s1;
        Sa2[p] = s2;
        SaT[p] = sT;
      }
    }
    const nA = A.length;
    const nB = B.length;
    const cross = (x: number, y: number): number => {
      const w = d2[x * n + y];
      return (
        T2 + nB * Sa2[x] + nA * Sa2[y] + nA * nB * w * w - 2 * SaT[x] - 2 * SaT[y] - 2 * w * sumT +
        2 * Sa[x] * Sa[y] + 2 * w * nB * Sa[x] + 2 * w * nA * Sa[y]
      );
    };
    const a = inA[e.a] ? e.a : e.b;
    const b = a === e.a ? e.b : e.a;
    const current = cross(a, b);
    for (const x of A) {
      for (const y of B) {
        if (x === a && y === b) continue;
        const gain = current - cross(x, y);
        if (gain > 0 && (best === null || gain > best.gain)) best = { cut, x, y, gain };
      }
    }
  });
  return best;
}

/** Local search from one tree; each accepted swap is checked on the exact criterion. */
export function improveTree(d2: Float64Array, n: number, start: TreeEdge[]): { edges: TreeEdge[]; cost: number } {
  let edges = start.slice();
  let cost = additiveCost(d2, n, edges);
  // Each swap lowers the criterion strictly, so the loop ends; the bound only guards rounding.
  for (let iter = 0; iter < 10 * n * n; iter++) {
    const move = bestMove(d2, n, edges);
    if (move === null) break;
    const next = edges.slice();
    next[move.cut] = { a: move.x, b: move.y };
    const nextCost = additiveCost(d2, n, next);
    // The expanded sums cancel large terms; trust only what the direct sum confirms.
    if (!(nextCost < cost - 1e-12 * Math.abs(cost))) break;
    edges = next;
    cost = nextCost;
  }
  return { edges, cost };
}

/** Prim's minimum spanning tree on d² (the same tree as on d). */
function spanningTree(d2: Float64Array, n: number): TreeEdge[] {
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  const from = new Int32Array(n).fill(-1);
  const edges: TreeEdge[] = [];
  best[0] = 0;
  for (let k = 0; k < n; k++) {
    let u = -1;
    for (let v = 0; v < n; v++) if (!inTree[v] && (u < 0 || best[v] < best[u])) u = v;
    inTree[u] = 1;
    if (from[u] >= 0) edges.push({ a: from[u], b: u });
    for (let v = 0; v < n; v++) {
      if (!inTree[v] && d2[u * n + v] < best[v]) {
        best[v] = d2[u * n + v];
        from[v] = u;
      }
    }
  }
  return edges;
}

/**
 * Fits the additive tree of one family from its n×n squared distances (row-major; finite,
 * symmetric, zero diagonal). Deterministic: fixed starts, ties to the earlier start.
 */
export function fitAdditiveTree(d2: Float64Array, n: number): AdditiveTreeFit {
  if (n <= 1) return { edges: [], cost: 0, startCosts: [] };
  if (n === 2) return { edges: [{ a: 0, b: 1 }], cost: 0, startCosts: [0] };
  const centrality = Array.from({ length: n }, (_, v) => {
    let s = 0;
    for (let u = 0; u < n; u++) s += d2[v * n + u];
    return { v, s };
  }).sort((p, q) => p.s - q.s || p.v - q.v);
  const starts: TreeEdge[][] = [spanningTree(d2, n)];
  for (const { v } of centrality.slice(0, starStarts(n))) {
    starts.push([...Array(n).keys()].filter((u) => u !== v).map((u) => ({ a: v, b: u })));
  }
  let best: { edges: TreeEdge[]; cost: number } | null = null;
  const startCosts: number[] = [];
  for (const s of starts) {
    const fit = improveTree(d2, n, s);
    startCosts.push(fit.cost);
    if (best === null || fit.cost < best.cost) best = fit;
  }
  return { edges: best!.edges, cost: best!.cost, startCosts };
}
