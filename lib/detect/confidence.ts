/**
 * Edge confidences (docs/confidence.md has the full definition): direction × pairing.
 * - direction, for methods that decide each edge by its own score comparison:
 *   Φ((s(child) − s(parent)) / σ_family), the score margin in units of the spread
 *   (population standard deviation) of the scores in the edge's family; 0.5 = no evidence.
 *   For methods that orient each family as a whole: the posterior probability that the root
 *   lies on the parent's side of the edge (familyDirectionConfidence).
 * - pairing = D₂ / (D₁ + D₂): D₁ = D(parent, child), D₂ = how close the best rival comes to
 *   sitting between the two (pairingRival), or τ (becoming a root) when the method has one
 *   and it is smaller. 0.5 = some model sits as near to both as they are to each other.
 * Both read as "how clearly this choice beat its rival", so their product is high only when
 * the pairing and the direction are both clear. Not calibrated probabilities.
 */
import { forestComponents } from '../graph/components';

export interface EdgeConfidence {
  direction: number;
  pairing: number;
  confidence: number;
}

/** erfc for x ≥ 3 (Numerical Recipes' Chebyshev fit; only the far tail uses it). */
function erfcTail(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return (
    t *
    Math.exp(
      -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628288 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** erf by its Maclaurin series below 3 (exact symmetry: Φ(0) is exactly 0.5, ties stay ties). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 3) return Math.sign(x) * (1 - erfcTail(ax));
  let term = x;
  let sum = x;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

export function directionConfidence(delta: number, sigma: number): number {
  if (!(sigma > 0)) return delta > 0 ? 1 : delta < 0 ? 0 : 0.5;
  return normalCdf(delta / sigma);
}

export function pairingConfidence(d1: number, d2: number): number {
  if (!Number.isFinite(d2)) return 1;
  if (d1 + d2 <= 0) return 0.5;
  return Math.min(1, Math.max(0, d2 / (d1 + d2)));
}

/**
 * The pairing rival of the undirected pair {p, c}: the model m that comes closest to sitting
 * between them, i.e. with the smallest max(D(m,p), D(m,c)); that value is D₂. A true
 * parent-child pair has nothing between it (D₂ > D₁: a sibling of c is √2 away when p is 1
 * away), a grandparent-grandchild or sibling pair has the model that links them (D₂ < D₁).
 * It depends only on the pair, not on the rest of the predicted forest, so a wrong forest
 * cannot make its own edges look safe.
 */
export function pairingRival(p: number, c: number, dist: number[][], tau: number): number {
  let rival = tau;
  for (let m = 0; m < dist.length; m++) {
    if (m === p || m === c) continue;
    const between = Math.max(dist[m][p], dist[m][c]);
    if (between < rival) rival = between;
  }
  return rival;
}

/**
 * Direction confidence for families oriented as a whole: the posterior probability that the
 * family's root lies on the parent's side of the edge. Model: each tree edge's score
 * comparison is right with probability 1 − ε independently, all roots equally likely a
 * priori; a root r making A(r) of the E edges agree then has likelihood ∝ ((1−ε)/ε)^A(r).
 * ε is estimated from the family itself as (E − A* + 1)/(E + 2) (A* the best root's agreement,
 * Laplace-smoothed). A family of two gets 2/3; a star of four children all agreeing gets
 * 8/9 per edge (the parent as root weighs q⁴, each leaf q³, q = 5).
 */
export function familyDirectionConfidence(parent: ArrayLike<number>, score: ArrayLike<number>): Float64Array {
  const n = parent.length;
  const out = new Float64Array(n).fill(NaN);
  const children: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) if (parent[v] >= 0) children[parent[v]].push(v);
  const agree = (u: number, v: number) => (score[u] < score[v] ? 1 : 0);
  for (let r = 0; r < n; r++) {
    if (parent[r] >= 0 || children[r].length === 0) continue;
    const order: number[] = [r];
    for (let i = 0; i < order.length; i++) order.push(...children[order[i]]);
    // Agreement of every possible root, by rerooting from the actual root.
    const A = new Map<number, number>();
    let a0 = 0;
    for (const v of order) if (v !== r) a0 += agree(parent[v], v);
    A.set(r, a0);
    for (const v of order) if (v !== r) A.set(v, A.get(parent[v])! - agree(parent[v], v) + agree(v, parent[v]));
    const E = order.length - 1;
    const best = Math.max(...A.values());
    const eps = (E - best + 1) / (E + 2);
    const logq = Math.log((1 - eps) / eps);
    const w = new Map<number, number>();
    for (const v of order) w.set(v, Math.exp(logq * (A.get(v)! - best)));
    // Posterior mass of each subtree, leaves first.
    const mass = new Map<number, number>();
    for (let i = order.length - 1; i >= 0; i--) {
      const v = order[i];
      mass.set(v, w.get(v)! + children[v].reduce((s, c) => s + mass.get(c)!, 0));
    }
    const total = mass.get(r)!;
    for (const v of order) if (v !== r) out[v] = 1 - mass.get(v)! / total;
  }
  return out;
}

/**
 * Per model: the confidence of the edge into it, null for roots. `orientation` says how the
 * method decided directions: 'edge' (each edge by its own score comparison) or 'family'
 * (each family as a whole).
 */
export function edgeConfidences(
  parent: ArrayLike<number>,
  score: ArrayLike<number>,
  dist: number[][],
  tau: number,
  orientation: 'edge' | 'family' = 'edge',
  /** A method's own direction confidences (per child), used as given where present. */
  methodDirection?: ArrayLike<number>,
): (EdgeConfidence | null)[] {
  const n = parent.length;
  const sigma = new Float64Array(n);
  for (const family of forestComponents(parent)) {
    const mean = family.reduce((a, v) => a + score[v], 0) / family.length;
    const sd = Math.sqrt(family.reduce((a, v) => a + (score[v] - mean) ** 2, 0) / family.length);
    for (const v of family) sigma[v] = sd;
  }
  const posterior = methodDirection ?? (orientation === 'family' ? familyDirectionConfidence(parent, score) : null);
  const out: (EdgeConfidence | null)[] = [];
  for (let c = 0; c < n; c++) {
    const p = parent[c];
    if (p < 0) {
      out.push(null);
      continue;
    }
    const direction = posterior ? posterior[c] : directionConfidence(score[c] - score[p], sigma[c]);
    const pairing = pairingConfidence(dist[p][c], pairingRival(p, c, dist, tau));
    out.push({ direction, pairing, confidence: direction * pairing });
  }
  return out;
}
