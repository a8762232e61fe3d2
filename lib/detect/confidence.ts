/**
 * Edge confidences (docs/confidence.md has the full definition): the product of
 * - direction = Φ((s(child) − s(parent)) / σ_family): the score margin in units of the spread
 *   (population standard deviation) of the scores in the edge's family; 0.5 = no evidence
 *   either way, below 0.5 = the edge runs against the score (family orientation can do that);
 * - pairing = D₂ / (D₁ + D₂): D₁ = D(parent, child), D₂ = distance from the child to the best
 *   alternative: the nearest other model outside the child's own subtree, or τ (becoming a
 *   root) when the method has one. 0.5 = a tie with the alternative, → 1 = no rival.
 * Both read as "how clearly this choice beat its rival", so their product is high only when
 * the pairing and the direction are both clear. Not calibrated probabilities.
 */
import { forestComponents } from './forest';

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

/** Per model: the confidence of the edge into it, null for roots. */
export function edgeConfidences(parent: ArrayLike<number>, score: ArrayLike<number>, dist: number[][], tau: number): (EdgeConfidence | null)[] {
  const n = parent.length;
  const sigma = new Float64Array(n);
  for (const family of forestComponents(parent)) {
    const mean = family.reduce((a, v) => a + score[v], 0) / family.length;
    const sd = Math.sqrt(family.reduce((a, v) => a + (score[v] - mean) ** 2, 0) / family.length);
    for (const v of family) sigma[v] = sd;
  }
  const children: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) if (parent[v] >= 0) children[parent[v]].push(v);
  const out: (EdgeConfidence | null)[] = [];
  for (let c = 0; c < n; c++) {
    const p = parent[c];
    if (p < 0) {
      out.push(null);
      continue;
    }
    const excluded = new Uint8Array(n);
    excluded[p] = 1;
    const stack = [c];
    while (stack.length > 0) {
      const v = stack.pop()!;
      excluded[v] = 1;
      stack.push(...children[v]);
    }
    let rival = tau;
    for (let m = 0; m < n; m++) if (!excluded[m] && dist[m][c] < rival) rival = dist[m][c];
    const direction = directionConfidence(score[c] - score[p], sigma[c]);
    const pairing = pairingConfidence(dist[p][c], rival);
    out.push({ direction, pairing, confidence: direction * pairing });
  }
  return out;
}
