/**
 * Trees that step counters rule out. BatchNorm's `num_batches_tracked` only grows along
 * fine-tuning (a fine-tune in eval mode keeps it), so no model's parent can hold a larger
 * counter than the model itself. The root posterior weighs counters as near-certain votes, but
 * it roots a tree it is given: when the fitted tree itself puts a model between two of its own
 * ancestors (a tiny fine-tune of a CNN moves so little that siblings and grandchildren are
 * almost equidistant), every rooting breaks some counter, and the family's edges come out
 * wrong whichever root wins.
 *
 * The repair, per family whose members all carry counters that are not all equal: detach every
 * model whose parent holds a larger counter; then hang every detached model that is not at
 * the family's least counter under its nearest model (squared distance) among those with a
 * counter no larger than its own and outside its own subtree; repeat until nothing moves.
 * Edges the counters allow are never touched, so where they say nothing (equal counters) the
 * weights still decide, with one exception: near twins (below). A family that would end with
 * more than one root is left as it was.
 *
 * Near twins. A fine-tune of a few steps (lr 1e-5 for 20 steps) barely moves its model u away
 * from its parent w, and what it moves is the start of what every longer fine-tune of w moves
 * too, so a sibling v of u sits beyond u: measured on the regimes zoo's BatchNorm CNNs,
 * d²(w, v) ≈ d²(u, v) + 0.6–0.75·d²(w, u), and the tree hangs v under u. Their equal counters are
 * then the only evidence against it (a fine-tune in eval mode keeps its parent's counter, so
 * equality is allowed, but a fine-tune in train mode adds its steps). So a model whose parent
 * holds the same counter moves under the nearest model w of smaller counter (outside its own
 * subtree) of which its parent is a near twin: d²(w, u) ≤ NEAR_TWIN · d²(w, v) (near-twins.ts).
 */
import { notNearTwins } from './near-twins';

/**
 * @param nodes the family (global indices)
 * @param parent global parent pointers, changed in place for this family's nodes
 * @param counter per global node, its step counter (NaN: none)
 * @param d2 the family's squared distances, row-major in `nodes` order
 * @returns whether the family's tree changed
 */
export function repairByCounters(nodes: number[], parent: Int32Array, counter: ArrayLike<number>, d2: Float64Array): boolean {
  const k = nodes.map((v) => counter[v]);
  if (k.some((x) => Number.isNaN(x)) || k.every((x) => x === k[0])) return false;
  const m = nodes.length;
  const local = new Map(nodes.map((v, i) => [v, i]));
  const up = Int32Array.from(nodes, (v) => (parent[v] >= 0 && local.has(parent[v]) ? local.get(parent[v])! : -1));
  const before = Int32Array.from(up);
  const least = Math.min(...k);
  const inSubtree = (u: number, v: number) => {
    for (let x = u, steps = 0; x >= 0 && steps <= m; x = up[x], steps++) if (x === v) return true;
    return false;
  };
  for (let round = 0; round <= m; round++) {
    let changed = false;
    for (let v = 0; v < m; v++) {
      if (up[v] >= 0 && k[up[v]] > k[v]) {
        up[v] = -1;
        changed = true;
      }
    }
    const loose = [...Array(m).keys()].filter((v) => up[v] < 0 && k[v] > least).sort((a, b) => k[a] - k[b] || a - b);
    for (const v of loose) {
      let best = -1;
      for (let u = 0; u < m; u++) {
        if (u === v || k[u] > k[v] || inSubtree(u, v)) continue;
        if (best < 0 || d2[u * m + v] < d2[best * m + v]) best = u;
      }
      if (best >= 0) {
        up[v] = best;
        changed = true;
      }
    }
    if (!changed) break;
  }
  // Near twins (above): equal counters along an edge whose parent the weights cannot tell from
  // a model of smaller counter.
  for (const v of [...Array(m).keys()].sort((a, b) => k[a] - k[b] || a - b)) {
    const u = up[v];
    if (u < 0 || k[u] !== k[v]) continue;
    let best = -1;
    for (let w = 0; w < m; w++) {
      if (w === u || k[w] >= k[v] || inSubtree(w, v) || notNearTwins(d2, m, v, u, w)) continue;
      if (best < 0 || d2[w * m + v] < d2[best * m + v]) best = w;
    }
    if (best >= 0) up[v] = best;
  }
  if (up.filter((x) => x < 0).length !== 1 || up.every((x, i) => x === before[i])) return false;
  nodes.forEach((v, i) => (parent[v] = up[i] >= 0 ? nodes[up[i]] : -1));
  return true;
}
