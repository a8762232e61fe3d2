/**
 * Merged models from the Gram alone. A linear merge c = Σ wᵢpᵢ (Σw = 1) of models of one family
 * lies in the convex hull of its parents, so its best simplex fit (simplex-fit.ts) leaves a
 * residual near 0, far below the distance to its nearest single model. A fine-tune does not:
 * its own increment δ is nearly orthogonal to every other model's, so no combination of others
 * explains it better than its parent does (residual ≈ ‖δ‖²).
 *
 * The look-alike that must not be called a merge is a parent with several children: the mean
 * of k children cᵢ = p + δᵢ lies at ‖δ‖²/k from p, so with orthogonal increments its residual
 * ratio (residual / squared distance to the nearest single candidate) is at least 1/k ≥ 1/4
 * for k ≤ 4 parents. The default bound 1/8 (option mergeRatio) keeps a factor 2 from that,
 * derived from the geometry rather than fitted on any zoo; docs/detect.md has what it gives.
 */
import type { ScanTensor } from '../../scan/types';
import { squaredDistancesOver } from '../distances';
import { fitSimplex } from './simplex-fit';
import { UnionFind } from '../../graph/union-find';

/** Merge when residual ≤ ratio × min(nearest single d², family's median edge d²); the
 * default lives with the other detect defaults (lib/detect/options.ts, mergeRatio). */
/** Candidates per model: its nearest related models (2^8 faces at most). */
const CANDIDATES = 8;
/** A parent below this weight is not a parent: the face without it is fitted instead. */
const MIN_WEIGHT = 0.05;
/** Merges of more parents than this are not looked for. */
export const MAX_MERGE_PARENTS = 4;

export interface FoundMerge {
  /** Model index (into the scan's models). */
  child: number;
  /** Parent model indices, heaviest first, with their weights (Σ = 1). */
  parents: { model: number; weight: number }[];
  /** ‖c − Σwp‖² on the raw weights, over the tensors the models all share, per element. */
  residual: number;
  /** residual / the reference it was compared with (≤ ratio for a merge). */
  ratio: number;
}

/**
 * Looks for merges among `models` (representatives: copies excluded). `related[a][b]` says
 * whether a and b may be linked at all (the correlation gate): candidates come from the
 * model's own family only. Greedy and order-free: each model is fitted against the others
 * independently, then a model fitted as a merge is no candidate parent of another (a merge of
 * merges is reported with its non-merge parents only when that fit also passes).
 */
export function findMerges(tensors: ScanTensor[], models: number[], related: boolean[][], ratio: number): FoundMerge[] {
  // One family at a time: its members share their tensors, so all its distances live in one
  // space (distances over different tensor sets cannot be combined in one fit).
  const sets = new UnionFind(related.length);
  for (const a of models) for (const b of models) if (a < b && related[a][b]) sets.union(a, b);
  const groups = new Map<number, number[]>();
  for (const m of models) {
    const r = sets.find(m);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(m);
  }
  const found = [...groups.values()].flatMap((g) => fitFamily(tensors, g, related, ratio));
  // A model found as a merge may not be a parent of another merge: keep the better-fitting of
  // the two claims (the lower ratio), so that merges never form cycles.
  found.sort((a, b) => a.ratio - b.ratio);
  const isChild = new Set<number>();
  const kept: FoundMerge[] = [];
  for (const f of found) {
    if (f.parents.some((p) => isChild.has(p.model)) || kept.some((k) => k.parents.some((p) => p.model === f.child))) continue;
    kept.push(f);
    isChild.add(f.child);
  }
  return kept.sort((a, b) => a.child - b.child);
}

function fitFamily(tensors: ScanTensor[], models: number[], related: boolean[][], ratio: number): FoundMerge[] {
  if (models.length < 3) return [];
  const s = { metric: 'euclidean' as const, normalize: 'per-element' as const, combine: 'size-weighted' as const };
  const { d2 } = squaredDistancesOver(tensors, models, s);
  const n = models.length;
  const D = (i: number, j: number): number => (i === j ? 0 : d2[i * n + j]);
  // Typical squared edge of each model's neighbourhood: its nearest related model.
  const nearest = models.map((a, i) => Math.min(...models.map((b, j) => (j !== i && related[a][b] && Number.isFinite(D(i, j)) ? D(i, j) : Infinity))));
  const found: FoundMerge[] = [];
  for (let i = 0; i < n; i++) {
    const cands = models
      .map((b, j) => j)
      .filter((j) => j !== i && related[models[i]][models[j]] && Number.isFinite(D(i, j)) && D(i, j) > 0)
      .sort((a, b) => D(i, a) - D(i, b))
      .slice(0, CANDIDATES);
    if (cands.length < 2) continue;
    const fit = fitSimplex(
      cands.map((j) => D(i, j)),
      cands.map((a) => cands.map((b) => D(a, b))),
      MAX_MERGE_PARENTS,
      MIN_WEIGHT,
    );
    if (!fit || fit.members.length < 2) continue;
    // The family's edge scale: median nearest-neighbour distance among the candidates and c.
    const scale = median([nearest[i], ...cands.map((j) => nearest[j])]);
    const single = D(i, cands[0]);
    const ref = Math.min(single, scale);
    if (!(ref > 0) || fit.residual > ratio * ref) continue;
    const parents = fit.members.map((m, a) => ({ model: models[cands[m]], weight: fit.weights[a] })).sort((a, b) => b.weight - a.weight);
    found.push({ child: models[i], parents, residual: fit.residual, ratio: fit.residual / ref });
  }
  return found;
}

function median(xs: number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Infinity;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}
