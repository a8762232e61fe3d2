/**
 * MoTHer (Horwitz, Shul & Hoshen, "On the Origin of Llamas: Model Tree Heritage Recovery"),
 * rebuilt from the paper as an in-library baseline; our own code and our reading of it:
 * - distance: per-layer root-mean-square of ΔW (sqrt(‖a_t − b_t‖² / n_t)), averaged over the
 *   layers both models have (distanceNormalize 'rms', distanceCombine 'mean');
 * - direction: weight kurtosis with a fixed sign (scoreSign 1: kurtosis grows from parent to
 *   child), averaged over weight matrices;
 * - edge cost of a→b: D(a,b)/max D + λ·[kurtosis says b is older than a], λ = 0.3: the
 *   direction is a soft penalty that distance can overrule, not a hard constraint as in our
 *   `arborescence`;
 * - Chu-Liu/Edmonds minimum arborescence. MoTHer first clusters models into families and
 *   grows one tree per cluster; here the clusters are the groups linked by distances below τ
 *   (the same τ rule as the other methods) and the virtual root costs τ/max D + λ, more than
 *   any admissible edge even against the kurtosis, so each such group gets exactly one root.
 */
import { arborescenceUnderVirtualRoot, type WeightedEdge } from '../graph/edmonds';

export function motherMethod(dist: number[][], score: ArrayLike<number>, tau: number, lambda: number): Int32Array {
  const n = dist.length;
  let maxFinite = 0;
  for (const row of dist) for (const d of row) if (Number.isFinite(d) && d > maxFinite) maxFinite = d;
  const scale = maxFinite > 0 ? maxFinite : 1;
  const edges: WeightedEdge[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const d = dist[a][b];
      if (a === b || !Number.isFinite(d) || d >= tau) continue;
      edges.push({ from: a, to: b, weight: d / scale + (score[a] > score[b] ? lambda : 0) });
    }
  }
  return arborescenceUnderVirtualRoot(n, edges, Number.isFinite(tau) ? tau / scale + lambda : null);
}
