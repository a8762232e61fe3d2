/**
 * Refitting a rooted family tree under shared drift, scored also by how evenly its
 * increments correlate (tree model 'drift-correlations').
 *
 * The shared-drift model (shared-drift.ts) says every two fine-tuning increments of a family
 * correlate by the same ρ. Its criterion is a sum of squared residuals of squared distances,
 * so the few longest increments (a large learning rate, many steps) carry almost all its
 * weight, and a wrong tree that fits them is preferred to the right tree that fits the many
 * short ones. Measured on the regime zoos: an uncle trained with a 10× larger learning rate
 * on its nephew's task hangs under the nephew, and a grandchild of a warm-up regime hangs
 * beside its parent.
 *
 * Any rooted tree fixes its increments δ_v = v − parent(v), and the correlation of every two
 * of them follows from squared distances alone (polarisation):
 *
 *   ⟨δ_u, δ_v⟩ = ½(d²(u, p_v) + d²(p_u, v) − d²(u, v) − d²(p_u, p_v)).
 *
 * These correlations are scale-free, one per pair whatever the lengths. Under the model they
 * are all ρ, so their spread V (the sum of squared deviations from their mean) measures the
 * same assumption with every pair weighted alike. The criterion is the product of the two,
 * log C + log(V + ε): equal weights in log space, not a fitted blend. A tree that hangs a
 * model under a non-ancestor gives it an increment that anti-correlates with the ancestors'
 * increments it failed to inherit, which widens V even where C improves.
 *
 * The search starts from the shared-drift refit (whose priced moves are cheap) and makes
 * best-improvement subtree moves (cut the edge above a subtree, hang it on any model outside
 * it), each priced on the exact criterion. Started instead from the additive tree and from the
 * star around the root, as the shared-drift refit is, it found the same trees on the regime
 * zoos but one mnist-fc edge fewer, at several times the cost.
 */
import { refitSharedDrift, sharedDriftCost, inSubtree, type SharedDriftFit } from './shared-drift';
import { addsChanges } from './unchanged-tensors';

/** Keeps log V finite for families whose increments all correlate alike (V = 0: one pair). */
const SPREAD_FLOOR = 1e-6;

/**
 * Families larger than this keep the priced shared-drift search (shared-drift.ts): each
 * exact move costs O(n²) and a pass tries O(n²) moves. A compute bound, not a tuning
 * constant.
 */
export const MAX_CORRELATION_REFIT_SIZE = 40;

/**
 * The correlations of all pairs of increments of a rooted tree (local indices, −1 at the
 * root), from its squared distances. A zero-length increment (a duplicate) correlates 0.
 */
export function incrementCorrelations(d2: Float64Array, n: number, parent: Int32Array): Float64Array {
  const D = (a: number, b: number): number => (a === b ? 0 : d2[a * n + b]);
  const nodes: number[] = [];
  parent.forEach((p, v) => p >= 0 && nodes.push(v));
  const out = new Float64Array((nodes.length * (nodes.length - 1)) / 2);
  let k = 0;
  for (let i = 0; i < nodes.length; i++) {
    const u = nodes[i];
    const pu = parent[u];
    const lu = D(u, pu);
    for (let j = i + 1; j < nodes.length; j++, k++) {
      const v = nodes[j];
      const pv = parent[v];
      const norm = Math.sqrt(lu * D(v, pv));
      out[k] = norm > 0 ? (D(u, pv) + D(pu, v) - D(u, v) - D(pu, pv)) / (2 * norm) : 0;
    }
  }
  return out;
}

/** Σ (c − mean)² over the increment correlations of a rooted tree. */
export function correlationSpread(d2: Float64Array, n: number, parent: Int32Array): number {
  const c = incrementCorrelations(d2, n, parent);
  if (c.length === 0) return 0;
  let mean = 0;
  for (const x of c) mean += x;
  mean /= c.length;
  let s = 0;
  for (const x of c) s += (x - mean) ** 2;
  return s;
}

/** The criterion log C + log(V + ε) of one rooted tree, with the shared-drift ρ of C. */
export function driftCorrelationCost(d2: Float64Array, n: number, parent: Int32Array): { cost: number; rho: number } {
  const sd = sharedDriftCost(d2, n, parent);
  // C = 0 is an exact fit: −Infinity ranks it first, as it should.
  return { cost: Math.log(sd.cost) + Math.log(correlationSpread(d2, n, parent) + SPREAD_FLOOR), rho: sd.rho };
}

/**
 * Best-improvement subtree moves from a rooted tree (cut the edge above a subtree, hang it on
 * any model outside it), each priced exactly by `costOf` (lower is better), until none
 * improves. With `changes`, no move implies more tensor changes (unchanged-tensors.ts).
 * Shared by this criterion and the nested-drift one (forgetting.ts).
 */
export function improveByMoves(n: number, start: Int32Array, changes: Float64Array | null, costOf: (parent: Int32Array) => number): Int32Array {
  let parent = Int32Array.from(start);
  let cost = costOf(parent);
  const next = new Int32Array(n);
  // Each accepted move lowers the cost strictly, so the search ends; the bound is a guard.
  for (let iter = 0; iter < 10 * n * n && cost > -Infinity; iter++) {
    let best: { v: number; x: number; cost: number } | null = null;
    for (let v = 0; v < n; v++) {
      if (parent[v] < 0) continue;
      for (let x = 0; x < n; x++) {
        if (x === parent[v] || inSubtree(parent, v, x) || addsChanges(changes, n, parent, v, x)) continue;
        next.set(parent);
        next[v] = x;
        const e = costOf(next);
        if (e < cost - 1e-9 * Math.abs(cost) && (best === null || e < best.cost)) best = { v, x, cost: e };
      }
    }
    if (best === null) break;
    parent = Int32Array.from(parent);
    parent[best.v] = best.x;
    cost = best.cost;
  }
  return parent;
}

/**
 * The shared-drift refit of `start` (rooted at its −1 entry; shared-drift.ts, whose priced
 * moves are cheap), then best-improvement moves on this criterion from there. The returned
 * cost is the criterion's (a log). With `changes`, no move implies more tensor changes
 * (unchanged-tensors.ts).
 */
export function refitDriftCorrelations(d2: Float64Array, n: number, start: Int32Array, changes: Float64Array | null = null): SharedDriftFit {
  const parent = improveByMoves(n, refitSharedDrift(d2, n, start, changes).parent, changes, (p) => driftCorrelationCost(d2, n, p).cost);
  return { parent, ...driftCorrelationCost(d2, n, parent) };
}
