/**
 * Family-level direction confidence: for each detected family, the expected share of its
 * edges whose direction is right, under the method's own direction confidences — the mean
 * of its edges' `confidenceParts.direction`. For additive-tree (and every method that orients
 * families as a whole) an edge's direction is P(root on the parent's side), so the mean over
 * edges is Σ_r P(root = r)·(1 − d(R, r)/E): 1 when the posterior is sure of the chosen root R,
 * lower the more mass sits on roots far from it. Not calibrated (docs/confidence.md).
 *
 * With a threshold (`minDirectionConfidence`), families below it are left undirected: their
 * edges stay (which models are linked is one question, which way another) but are marked
 * `undirected`, and eval does not count them as directed edges, right or wrong.
 */
import type { DetectedEdge, FamilyDirection } from './types';

export function familyDirections(families: string[][], edges: DetectedEdge[], minConfidence: number): FamilyDirection[] {
  const familyOf = new Map<string, number>();
  families.forEach((f, i) => f.forEach((id) => familyOf.set(id, i)));
  const sum = new Float64Array(families.length);
  const count = new Int32Array(families.length);
  const hasParent = new Set(edges.map((e) => e.child));
  for (const e of edges) {
    const f = familyOf.get(e.child);
    if (f === undefined) continue;
    sum[f] += e.confidenceParts?.direction ?? 0.5;
    count[f]++;
  }
  const out: FamilyDirection[] = families.map((f, i) => {
    const confidence = count[i] > 0 ? sum[i] / count[i] : null;
    return { root: f.find((id) => !hasParent.has(id)) ?? f[0], confidence, directed: confidence === null || confidence >= minConfidence };
  });
  for (const e of edges) {
    const f = familyOf.get(e.child);
    if (f !== undefined && !out[f].directed) e.undirected = true;
  }
  return out;
}
