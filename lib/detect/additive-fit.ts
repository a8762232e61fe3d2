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
 * pair) from several starting trees, each swap priced in O(1) after O(n) work per cut (sums
 * over each side by rerooting), so a pass costs O(n² + Σ over cuts |A|·|B|): for the shallow
 * trees of fine-tuning families far below the O(n³) of summing path sums side by side. Starting trees: the minimum spanning tree and stars around the most
 * central models (a base model with its fine-tunes is a star).
 */
import { additiveCost, adjacency, type TreeEdge } from '../graph/tree-paths';

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

interface Move {
  cut: number;
  x: number;
  y: number;
  gain: number;
}

/** Scratch arrays of one search, reused by every cut of every pass. */
class CutScratch {
  readonly side: Uint8Array;
  readonly ord: Int32Array;
  readonly par: Int32Array;
  readonly rowT: Float64Array;
  readonly e0: Float64Array;
  readonly e1: Float64Array;
  readonly Sa: Float64Array;
  readonly Sa2: Float64Array;
  readonly SaT: Float64Array;
  readonly d0: Float64Array;
  readonly d1: Float64Array;
  readonly d2: Float64Array;
  readonly A: Int32Array;
  readonly B: Int32Array;
  constructor(n: number) {
    this.side = new Uint8Array(n);
    this.ord = new Int32Array(n);
    this.par = new Int32Array(n);
    this.rowT = new Float64Array(n);
    this.e0 = new Float64Array(n);
    this.e1 = new Float64Array(n);
    this.Sa = new Float64Array(n);
    this.Sa2 = new Float64Array(n);
    this.SaT = new Float64Array(n);
    this.d0 = new Float64Array(n);
    this.d1 = new Float64Array(n);
    this.d2 = new Float64Array(n);
    this.A = new Int32Array(n);
    this.B = new Int32Array(n);
  }
}

/**
 * The component of `root` once the edge (root, other) is cut, in BFS order from root into
 * ord[from..), with parents in par; marks it `mark` in side. Returns its size.
 */
function component(adj: number[][], root: number, other: number, mark: number, s: CutScratch, from: number): number {
  s.ord[from] = root;
  s.par[root] = -1;
  s.side[root] = mark;
  let tail = from + 1;
  for (let i = from; i < tail; i++) {
    const u = s.ord[i];
    for (const v of adj[u]) {
      if ((u === root && v === other) || v === s.par[u]) continue;
      s.par[v] = u;
      s.side[v] = mark;
      s.ord[tail++] = v;
    }
  }
  return tail - from;
}

/**
 * For every p of one component (BFS order ord[from, from+len)), with x over the component and
 * S the tree path sums of d²: Sa[p] = Σ S(p,x), Sa2[p] = Σ S(p,x)², SaT[p] = Σ S(p,x)·rowT[x].
 * Rerooting: sums over each subtree bottom-up, then each node's from its parent's, so a
 * component costs O(size) instead of the O(size²) of summing S row by row.
 */
function rerootSums(d2: Float64Array, n: number, s: CutScratch, from: number, len: number): void {
  const { ord, par, d0, d1, rowT, e0, e1, Sa, Sa2, SaT } = s;
  const dd = s.d2;
  const end = from + len;
  for (let i = from; i < end; i++) {
    const v = ord[i];
    d0[v] = 1;
    d1[v] = 0;
    dd[v] = 0;
    e0[v] = rowT[v];
    e1[v] = 0;
  }
  for (let i = end - 1; i > from; i--) {
    const c = ord[i];
    const v = par[c];
    const w = d2[v * n + c];
    d0[v] += d0[c];
    dd[v] += dd[c] + 2 * w * d1[c] + w * w * d0[c];
    d1[v] += d1[c] + w * d0[c];
    e0[v] += e0[c];
    e1[v] += e1[c] + w * e0[c];
  }
  const r = ord[from];
  Sa[r] = d1[r];
  Sa2[r] = dd[r];
  SaT[r] = e1[r];
  const total = d0[r];
  const totalT = e0[r];
  for (let i = from + 1; i < end; i++) {
    const c = ord[i];
    const v = par[c];
    const w = d2[v * n + c];
    // What lies outside c's subtree, seen from its parent v, then moved across the edge (v, c).
    const out0 = total - d0[c];
    const out1 = Sa[v] - (d1[c] + w * d0[c]);
    const out2 = Sa2[v] - (dd[c] + 2 * w * d1[c] + w * w * d0[c]);
    Sa[c] = d1[c] + out1 + w * out0;
    Sa2[c] = dd[c] + out2 + 2 * w * out1 + w * w * out0;
    const outT0 = totalT - e0[c];
    const outT1 = SaT[v] - (e1[c] + w * e0[c]);
    SaT[c] = e1[c] + outT1 + w * outT0;
  }
}

/**
 * The best swap of one pass. Cutting edge (a,b) leaves path sums inside each side unchanged;
 * reconnecting by (x', y') gives every cross pair (x in A, y in B) the path sum
 * S[x,x'] + d²(x',y') + S[y',y], so the cross part of the criterion,
 * Σ (T − a_x − b_y − w)², expands into sums over A and over B that are computed once per cut
 * (by rerooting, O(n) a cut), then each candidate reconnection is priced in O(1).
 * Exported for the test that holds it to a direct search on the criterion.
 */
export function bestMove(d2: Float64Array, n: number, edges: TreeEdge[], s: CutScratch = new CutScratch(n), changes: Float64Array | null = null, repair = false): Move | null {
  const adj = adjacency(n, edges);
  let best: Move | null = null;
  const { side, rowT, Sa, Sa2, SaT, A, B } = s;
  for (let cut = 0; cut < edges.length; cut++) {
    const e = edges[cut];
    const a = e.a;
    const b = e.b;
    const lenA = component(adj, a, b, 1, s, 0);
    const lenB = component(adj, b, a, 0, s, lenA);
    // A and B in ascending order: candidates are visited as the pass always visited them.
    let nA = 0;
    let nB = 0;
    for (let v = 0; v < n; v++) {
      if (side[v]) A[nA++] = v;
      else B[nB++] = v;
    }
    let T2 = 0;
    let sumT = 0;
    rowT.fill(0);
    for (let i = 0; i < nA; i++) {
      const x = A[i];
      const row = x * n;
      let rx = 0;
      for (let j = 0; j < nB; j++) {
        const y = B[j];
        const t = d2[row + y];
        rx += t;
        rowT[y] += t;
        T2 += t * t;
        sumT += t;
      }
      rowT[x] = rx;
    }
    rerootSums(d2, n, s, 0, lenA);
    rerootSums(d2, n, s, lenA, lenB);
    const cross = (x: number, y: number): number => {
      const w = d2[x * n + y];
      return (
        T2 + nB * Sa2[x] + nA * Sa2[y] + nA * nB * w * w - 2 * SaT[x] - 2 * SaT[y] - 2 * w * sumT +
        2 * Sa[x] * Sa[y] + 2 * w * nB * Sa[x] + 2 * w * nA * Sa[y]
      );
    };
    const current = cross(a, b);
    const held = changes ? changes[a * n + b] : 0;
    for (let i = 0; i < nA; i++) {
      const x = A[i];
      for (let j = 0; j < nB; j++) {
        const y = B[j];
        if (x === a && y === b) continue;
        // With tensor changes: a repair takes only swaps that imply fewer of them, a search
        // only swaps that imply no more (unchanged-tensors.ts).
        if (changes) {
          const more = changes[x * n + y] - held;
          if (repair ? more >= 0 : more > 0) continue;
        }
        const gain = current - cross(x, y);
        if ((repair || gain > 0) && (best === null || gain > best.gain)) best = { cut, x, y, gain };
      }
    }
  }
  return best;
}

/**
 * Local search from one tree; each accepted swap is checked on the exact criterion. With
 * tensor changes (unchanged-tensors.ts) the start is first repaired into a tree with the
 * fewest of them (each swap lowers their count, the best for the criterion among those;
 * single swaps reach a minimum spanning tree from any tree), and the search keeps their count.
 */
export function improveTree(d2: Float64Array, n: number, start: TreeEdge[], changes: Float64Array | null = null): { edges: TreeEdge[]; cost: number } {
  let edges = start.slice();
  const scratch = new CutScratch(n);
  if (changes) {
    // Each repair lowers an integer count, so the loop ends.
    for (let move = bestMove(d2, n, edges, scratch, changes, true); move !== null; move = bestMove(d2, n, edges, scratch, changes, true)) {
      edges = edges.slice();
      edges[move.cut] = { a: move.x, b: move.y };
    }
  }
  let cost = additiveCost(d2, n, edges);
  // Each swap lowers the criterion strictly, so the loop ends; the bound only guards rounding.
  for (let iter = 0; iter < 10 * n * n; iter++) {
    const move = bestMove(d2, n, edges, scratch, changes);
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

/**
 * Prim's minimum spanning tree on d² (the same tree as on d); with tensor changes, on the
 * changes first and d² among equal changes, so that it already implies the fewest of them.
 */
function spanningTree(d2: Float64Array, n: number, changes: Float64Array | null = null): TreeEdge[] {
  const change = (u: number, v: number): number => (changes === null ? 0 : changes[u * n + v]);
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  const bestChange = new Float64Array(n).fill(Infinity);
  const from = new Int32Array(n).fill(-1);
  const edges: TreeEdge[] = [];
  best[0] = 0;
  bestChange[0] = 0;
  for (let k = 0; k < n; k++) {
    let u = -1;
    for (let v = 0; v < n; v++) if (!inTree[v] && (u < 0 || bestChange[v] < bestChange[u] || (bestChange[v] === bestChange[u] && best[v] < best[u]))) u = v;
    inTree[u] = 1;
    if (from[u] >= 0) edges.push({ a: from[u], b: u });
    for (let v = 0; v < n; v++) {
      const c = change(u, v);
      if (!inTree[v] && (c < bestChange[v] || (c === bestChange[v] && d2[u * n + v] < best[v]))) {
        best[v] = d2[u * n + v];
        bestChange[v] = c;
        from[v] = u;
      }
    }
  }
  return edges;
}

/**
 * Fits the additive tree of one family from its n×n squared distances (row-major; finite,
 * symmetric, zero diagonal). Deterministic: fixed starts, ties to the earlier start. With
 * `changes` (unchanged-tensors.ts) only trees that imply the fewest tensor changes are fitted.
 */
export function fitAdditiveTree(d2: Float64Array, n: number, changes: Float64Array | null = null): AdditiveTreeFit {
  if (n <= 1) return { edges: [], cost: 0, startCosts: [] };
  if (n === 2) return { edges: [{ a: 0, b: 1 }], cost: 0, startCosts: [0] };
  const centrality = Array.from({ length: n }, (_, v) => {
    let s = 0;
    for (let u = 0; u < n; u++) s += d2[v * n + u];
    return { v, s };
  }).sort((p, q) => p.s - q.s || p.v - q.v);
  const starts: TreeEdge[][] = [spanningTree(d2, n, changes)];
  for (const { v } of centrality.slice(0, starStarts(n))) {
    starts.push([...Array(n).keys()].filter((u) => u !== v).map((u) => ({ a: v, b: u })));
  }
  let best: { edges: TreeEdge[]; cost: number } | null = null;
  const startCosts: number[] = [];
  for (const s of starts) {
    const fit = improveTree(d2, n, s, changes);
    startCosts.push(fit.cost);
    if (best === null || fit.cost < best.cost) best = fit;
  }
  return { edges: best!.edges, cost: best!.cost, startCosts };
}
