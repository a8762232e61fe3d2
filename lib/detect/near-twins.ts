/**
 * Near twins: trees the distances cannot tell apart.
 *
 * A fine-tune of a few small steps (Adam at lr 1e-5 for 20 steps, or any child that barely
 * moved) leaves its model u next to its parent w, and what it moves is the start of what
 * every longer fine-tune of w moves too. So a sibling x of u sits beyond u: fine-tuning
 * increments correlate (by ρ ≈ 0.05–0.2, shared-drift.ts), and once x's increment projects
 * onto u's by more than half of u's own length every distance criterion hangs x under u, the
 * path through u being the additive one. That happens when d²(w, u) < 4ρ²·d²(w, x), and
 * 4·0.2² = NEAR_TWIN. The twin then gathers its parent's fine-tunes, becomes the hub, and
 * the attachment prior roots the family at it (ViT families with a tiny fine-tune; simulated
 * families with correlated siblings of spread lengths, docs/detect.md).
 *
 * Which of the two is the hub is then a question the distances leave open, so the tree fit's
 * answer is one of several. For every edge {w, u} of a family's tree, the alternative in
 * which u's other neighbours that might as well hang on w (d²(w, u) ≤ NEAR_TWIN·d²(w, x)) do
 * is an equally good reading of the distances. `chooseAmongTwins` weighs the fitted tree and
 * those alternatives, each under every root, by the root posterior (attachment prior × votes,
 * root-posterior.ts rootLogPosteriors); each edge's direction confidence becomes the posterior
 * probability, over all the readings and roots, that its parent is an ancestor of its child.
 * 'doubt' (the default) keeps the fitted tree and root; 'weigh' takes the (reading, root) of
 * highest posterior, which measured worse: weighted alike, the readings favour the bigger hub,
 * right for a twin's siblings and wrong for its own fine-tunes, which nothing in the weights
 * tells apart at these lengths (docs/detect.md, section 7). Where no edge is that short
 * nothing changes.
 */
import type { TreeEdge } from './additive-fit';
import { rootedAt, type FamilyTree } from './root-posterior';
import { changesOfTree } from './unchanged-tensors';

/**
 * How near a twin must be for the weights to lose the choice between it and its parent: the
 * additive criterion prefers u over w as x's parent once d²(w, u) < 4ρ²·d²(w, x), ρ the
 * increment correlation; ρ ≤ 0.2 (shared-drift.ts) gives 0.16. Derived from that measured
 * range, not fitted.
 */
export const NEAR_TWIN = 0.16;

/** Whether the distances can choose between a and b as v's parent: b is not a near twin of a
 * relative to v, d²(a, b) > NEAR_TWIN·d²(v, b). */
export function notNearTwins(d2: Float64Array, n: number, v: number, a: number, b: number): boolean {
  return d2[a * n + b] > NEAR_TWIN * d2[v * n + b];
}

export const NEAR_TWINS = ['ignore', 'doubt', 'weigh'] as const;
export type NearTwins = (typeof NEAR_TWINS)[number];

const key = (edges: TreeEdge[]): string =>
  edges
    .map((e) => (e.a < e.b ? `${e.a}-${e.b}` : `${e.b}-${e.a}`))
    .sort()
    .join(',');

/**
 * The readings of a tree (local indices 0..n−1, squared distances d2 row-major) that differ
 * from it only in which of two near twins holds the other's neighbours: per edge {w, u} and
 * each of its two ends u, the tree with every neighbour x ≠ w of u for which
 * d²(w, u) ≤ NEAR_TWIN·d²(w, x) moved onto w. Distinct, and never the tree itself.
 */
export function twinAlternatives(edges: TreeEdge[], n: number, d2: Float64Array): TreeEdge[][] {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) {
    adj[e.a].push(e.b);
    adj[e.b].push(e.a);
  }
  const seen = new Set([key(edges)]);
  const out: TreeEdge[][] = [];
  for (const e of edges) {
    for (const [w, u] of [
      [e.a, e.b],
      [e.b, e.a],
    ]) {
      const moved = new Set(adj[u].filter((x) => x !== w && !notNearTwins(d2, n, x, u, w)));
      if (moved.size === 0) continue;
      const alt = edges.map((f) => {
        const other = f.a === u ? f.b : f.b === u ? f.a : -1;
        return other >= 0 && moved.has(other) ? { a: w, b: other } : f;
      });
      const k = key(alt);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(alt);
    }
  }
  return out;
}

export interface TwinChoice {
  /** The chosen tree's edges (global indices), its root, and its parent pointers (−1 at the root). */
  edges: TreeEdge[];
  root: number;
  parent: Map<number, number>;
  /** Per model other than the root: P(its parent in the chosen tree is its ancestor), over every reading and root. */
  direction: Map<number, number>;
}

/**
 * Weighs a family's fitted tree against its near-twin readings (above).
 *
 * @param tree the fitted tree (global node indices)
 * @param root its root as chosen by the root posterior (wins ties)
 * @param d2 the family's squared distances, row-major in `tree.nodes` order
 * @param logPosteriors per candidate tree, each root's log posterior, comparable across trees
 * @param changes per pair, the tensors that differ (unchanged-tensors.ts), or null: readings
 *   that imply more tensor changes than the fitted tree are left out
 * @param choose whether a reading may replace the fitted tree and root ('weigh'), or only
 *   lower the direction confidences ('doubt')
 * @returns null where the tree has no near-twin reading
 */
export function chooseAmongTwins(
  tree: FamilyTree,
  root: number,
  d2: Float64Array,
  logPosteriors: (trees: FamilyTree[]) => Map<number, number>[],
  changes: Float64Array | null = null,
  choose = true,
): TwinChoice | null {
  const n = tree.nodes.length;
  const local = new Map(tree.nodes.map((v, i) => [v, i]));
  const toLocal = (e: TreeEdge): TreeEdge => ({ a: local.get(e.a)!, b: local.get(e.b)! });
  const localEdges = tree.edges.map(toLocal);
  const parentsOf = (edges: TreeEdge[]): Int32Array => {
    const t = { nodes: [...Array(n).keys()], edges };
    const up = rootedAt(t, 0);
    return Int32Array.from(t.nodes, (v) => up.get(v)!);
  };
  let alternatives = twinAlternatives(localEdges, n, d2);
  if (changes !== null) {
    const base = changesOfTree(changes, n, parentsOf(localEdges));
    alternatives = alternatives.filter((edges) => changesOfTree(changes, n, parentsOf(edges)) <= base);
  }
  if (alternatives.length === 0) return null;
  const candidates: FamilyTree[] = [tree, ...alternatives.map((edges) => ({ nodes: tree.nodes, edges: edges.map((e) => ({ a: tree.nodes[e.a], b: tree.nodes[e.b] })) }))];
  const post = logPosteriors(candidates);
  // The fitted tree under its root wins ties: a reading replaces it only on strictly more
  // posterior mass.
  let best = { i: 0, r: root, lp: post[0].get(root)! };
  if (choose) {
    post.forEach((p, i) => {
      for (const v of tree.nodes) if (p.get(v)! > best.lp + 1e-9) best = { i, r: v, lp: p.get(v)! };
    });
  }
  const chosen = candidates[best.i];
  const up = rootedAt(chosen, best.r);
  // P(parent is an ancestor of the child) = the mass of roots r under which it is, i.e. of
  // the roots in the parent's subtree when the candidate is rooted at the child.
  const top = Math.max(...post.map((p) => Math.max(...p.values())));
  let total = 0;
  const towards = new Map<number, number>();
  for (const p of post) for (const v of tree.nodes) total += Math.exp(p.get(v)! - top);
  for (const [v, p] of up) {
    if (p < 0) continue;
    let mass = 0;
    candidates.forEach((c, i) => {
      const fromChild = rootedAt(c, v);
      for (const r of tree.nodes) {
        // r lies in p's subtree (rooted at v) iff the path from r to v passes p.
        for (let x = r; x >= 0; x = fromChild.get(x)!) {
          if (x === p) {
            mass += Math.exp(post[i].get(r)! - top);
            break;
          }
        }
      }
    });
    towards.set(v, mass / total);
  }
  return { edges: chosen.edges, root: best.r, parent: up, direction: towards };
}
