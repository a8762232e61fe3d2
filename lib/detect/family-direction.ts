/**
 * Family-level direction confidence: for each detected family, a lower bound on the
 * probability that every one of its edges points the right way, under the method's own
 * direction confidences: 1 − Σ_e (1 − direction_e), at least 0. Σ_e (1 − direction_e) is the
 * expected number of reversed edges, whatever the edges' joint law (Markov: P(any reversed) ≤
 * E[reversed]); for additive-tree (and every method that orients families as a whole)
 * direction_e is P(root on the parent's side), so the bound is P(root = R) − Σ_r P(root = r)·
 * (d(R, r) − 1)⁺ — near P(root = R), the chosen root's own posterior mass, when the posterior
 * sits on R and its neighbours. The mean of the edges' directions (the expected share of right
 * edges), used before, called a six-model family 0.95 with a quarter of an edge expected
 * reversed; a family reported high must have none. Not calibrated (docs/confidence.md).
 *
 * With a threshold (`minDirectionConfidence`), families below it are left undirected: their
 * edges stay (which models are linked is one question, which way another) but are marked
 * `undirected`, and eval does not count them as directed edges, right or wrong.
 */
import type { DetectedEdge, FamilyDirection } from './types';

export function familyDirections(families: string[][], edges: DetectedEdge[], minConfidence: number): FamilyDirection[] {
  const familyOf = new Map<string, number>();
  families.forEach((f, i) => f.forEach((id) => familyOf.set(id, i)));
  // Per family: Σ (1 − direction) over its edges, the expected number of reversed edges.
  const sum = new Float64Array(families.length);
  const count = new Int32Array(families.length);
  const hasParent = new Set(edges.map((e) => e.child));
  for (const e of edges) {
    const f = familyOf.get(e.child);
    if (f === undefined) continue;
    sum[f] += 1 - (e.confidenceParts?.direction ?? 0.5);
    count[f]++;
  }
  const out: FamilyDirection[] = families.map((f, i) => {
    const confidence = count[i] > 0 ? Math.max(0, 1 - sum[i]) : null;
    return { root: f.find((id) => !hasParent.has(id)) ?? f[0], confidence, directed: confidence === null || confidence >= minConfidence };
  });
  for (const e of edges) {
    const f = familyOf.get(e.child);
    if (f !== undefined && !out[f].directed) e.undirected = true;
  }
  return out;
}
