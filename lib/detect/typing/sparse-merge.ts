/**
 * TIES- and DARE-style merges: a bounded second pass over tensors, for what the Gram cannot see.
 * Both recipes write c = base + τ with τ sparse (TIES trims each task vector to its largest
 * entries, DARE drops most entries and rescales the rest), so c is no convex combination of its
 * parents (lib/detect/typing/merge.ts misses them: the fit leaves ≈ half the nearest distance²)
 * but it is *equal* to its base on most entries, and where it is not, its change τᵢ is one
 * parent's change (a − base)ᵢ times one constant (1 for TIES where only that parent kept the
 * entry, 1/(1 − p)·λ for DARE) on a large share of entries.
 *
 * For each finetune edge p → c the 2-D matrices both share are read by byte range: c is a sparse
 * merge over p (or over one of p's ANCESTORS nearest ancestors, when the tree hung c under one of
 * the merged models) when at least SPARSE of their entries are exactly equal; its parents are then
 * the other members m of the family whose change m − p explains at least EXPLAINS of c's
 * changed entries with one ratio (the most common ratio (c − p)ᵢ / (m − p)ᵢ, within 2%). With two
 * or more such parents the edge p → c is replaced by merge edges, weighted by how much each
 * explains, and models the tree had hung under c are moved to p (the tree was built with c as an
 * ordinary model, and a sparse merge of p's descendants lies between p and them).
 *
 * SPARSE and EXPLAINS come from the recipes' own arithmetic, not from a fit: TIES at density 0.2
 * leaves (1 − 0.2)² = 64% of entries unchanged, DARE at p = 0.9 81%; a plain fine-tune moves
 * every weight by far more than its storage rounding (shares near 0 on the zoos). A TIES parent
 * alone holds 0.2·0.8 / (1 − 0.64) ≈ 44% of the changed entries, a DARE parent 0.1·0.9 / 0.19 ≈
 * 47%; an unrelated change gives a spread of ratios (a few % in any 2% bucket).
 */
import type { ModelSet, TensorEntry } from '../../io/types';
import { isScannable, readTensorValues } from '../../io/tensor-data';
import { edgeTypeOf } from '../../io/edge-types';
import type { DetectedEdge, DetectionResult } from '../types';

export const SPARSE = 0.3;
/** Ancestors of the detected parent tried as the merge's base. */
export const ANCESTORS = 2;
export const EXPLAINS = 0.2;
/** Ratio buckets are this wide in log space (≈ 2%). */
const BUCKET = 0.02;
/** Only matrices of at most this many elements are compared per edge (bounded reads). */
export const MAX_ELEMENTS_PER_EDGE = 64 * 1024 * 1024;

interface Matrices {
  names: string[];
  get(model: string, name: string): Float32Array;
}

function matrices(set: ModelSet, ids: string[]): Matrices {
  const byId = new Map(set.models.map((m) => [m.id, new Map(m.tensors.map((t) => [t.name, t]))]));
  const tensorsOf = ids.map((id) => byId.get(id)!);
  const first = tensorsOf[0];
  const names: string[] = [];
  let total = 0;
  for (const [name, t] of first) {
    if (t.shape.length !== 2) continue;
    const all = tensorsOf.map((m) => m.get(name));
    if (all.some((u) => !u || u.shape.join() !== t.shape.join() || !isScannable(u) || u.lora)) continue;
    const n = t.shape[0] * t.shape[1];
    if (total + n > MAX_ELEMENTS_PER_EDGE) break;
    total += n;
    names.push(name);
  }
  const cache = new Map<string, Float32Array>();
  return {
    names,
    get(model, name) {
      const key = `${model}\u0000${name}`;
      if (!cache.has(key)) cache.set(key, readTensorValues(byId.get(model)!.get(name) as TensorEntry));
      return cache.get(key)!;
    },
  };
}

export interface SparseMerge {
  child: string;
  base: string;
  /** Share of entries equal to the base's. */
  unchanged: number;
  parents: { id: string; explains: number; ratio: number }[];
}

/** The share of c's changed entries that m's change explains with one ratio, and that ratio. */
function explained(c: Float32Array[], p: Float32Array[], m: Float32Array[]): { share: number; ratio: number } {
  const buckets = new Map<number, number>();
  let changed = 0;
  for (let t = 0; t < c.length; t++) {
    for (let i = 0; i < c[t].length; i++) {
      const dc = c[t][i] - p[t][i];
      if (dc === 0) continue;
      changed++;
      const dm = m[t][i] - p[t][i];
      if (dm === 0 || dc / dm <= 0) continue;
      const b = Math.round(Math.log(dc / dm) / BUCKET);
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
    }
  }
  let best = 0;
  let at = 0;
  // A ratio on a bucket edge splits its count: take the best pair of neighbours.
  for (const [b, n] of buckets) {
    const s = n + Math.max(buckets.get(b - 1) ?? 0, buckets.get(b + 1) ?? 0);
    if (s > best) (best = s), (at = b);
  }
  return { share: changed ? best / changed : 0, ratio: Math.exp(at * BUCKET) };
}

/** The share of entries where `m` equals `p` exactly. */
function unchangedShare(m: Float32Array[], p: Float32Array[]): number {
  let same = 0;
  let total = 0;
  for (let t = 0; t < m.length; t++) for (let i = 0; i < m[t].length; i++) (total++, m[t][i] === p[t][i] && same++);
  return total ? same / total : 0;
}

/** Sparse merges among the finetune edges of `result` (see the header); returns what it found. */
export function findSparseMerges(result: DetectionResult, set: ModelSet): SparseMerge[] {
  const inSet = new Set(set.models.map((m) => m.id));
  const familyOf = new Map<string, string[]>();
  for (const f of result.families) for (const id of f) familyOf.set(id, f);
  // A copy (quantized, duplicate) or an adapter explains what its source explains: only models
  // that are their own weights are candidate parents.
  const copy = new Set(result.edges.filter((e) => ['quantized', 'duplicate', 'peft'].includes(edgeTypeOf(e))).map((e) => e.child));
  const found: SparseMerge[] = [];
  const treeParent = new Map(result.edges.map((x) => [x.child, x.parent]));
  for (const e of result.edges) {
    if (edgeTypeOf(e) !== 'finetune' || !inSet.has(e.child) || !inSet.has(e.parent)) continue;
    // The base is the detected parent or, when the tree hung the merge under one of the models
    // merged, an ancestor of it: at most ANCESTORS steps up are read.
    let base: string | undefined = e.parent;
    let hit: { base: string; mats: Matrices; c: Float32Array[]; p: Float32Array[]; unchanged: number } | null = null;
    for (let up = 0; up <= ANCESTORS && base && inSet.has(base) && !hit; up++, base = treeParent.get(base!)) {
      const mats = matrices(set, [e.child, base]);
      if (!mats.names.length) break;
      const c = mats.names.map((n) => mats.get(e.child, n));
      const p = mats.names.map((n) => mats.get(base!, n));
      const unchanged = unchangedShare(c, p);
      if (unchanged >= SPARSE) hit = { base: base!, mats, c, p, unchanged };
    }
    if (!hit) continue;
    const { mats, c, p, unchanged, base: baseId } = hit;
    const parents: SparseMerge['parents'] = [];
    for (const m of familyOf.get(e.child) ?? []) {
      if (m === e.child || m === baseId || !inSet.has(m) || copy.has(m)) continue;
      const mm = matrices(set, [e.child, baseId, m]);
      if (mm.names.length !== mats.names.length) continue;
      const mv = mm.names.map((n) => mm.get(m, n));
      // Another sparse merge over the same base (a TIES beside a DARE of the same models) carries
      // its parents' changes entry by entry, so it would "explain" this one too: only models whose
      // own change is dense (fine-tunes) are candidate parents.
      if (unchangedShare(mv, p) >= SPARSE) continue;
      const x = explained(c, p, mv);
      if (x.share >= EXPLAINS) parents.push({ id: m, explains: x.share, ratio: x.ratio });
    }
    if (parents.length >= 2) found.push({ child: e.child, base: baseId, unchanged, parents: parents.sort((a, b) => b.explains - a.explains) });
  }
  return found;
}

/** Rewrites `result` for the sparse merges found: merge edges in, the child's tree children to its base. */
export function applySparseMerges(result: DetectionResult, found: SparseMerge[]): string[] {
  const notes: string[] = [];
  for (const f of found) {
    const total = f.parents.reduce((a, p) => a + p.explains, 0);
    const kept = result.edges.filter((e) => e.child !== f.child);
    for (const e of kept) if (e.parent === f.child && edgeTypeOf(e) === 'finetune') e.parent = f.base;
    const merges: DetectedEdge[] = f.parents.map((p) => ({ parent: p.id, child: f.child, type: 'merge', weight: p.explains / total, confidence: Math.min(1, p.explains / (2 * EXPLAINS)) }));
    result.edges = [...kept, ...merges];
    notes.push(`${f.child}: a sparse (TIES/DARE-like) merge over ${f.base} (${(100 * f.unchanged).toFixed(0)}% of entries unchanged) of ${f.parents.map((p) => `${p.id} (explains ${(100 * p.explains).toFixed(0)}% at ratio ${p.ratio.toFixed(2)})`).join(', ')}`);
  }
  if (found.length) {
    const hasParent = new Set(result.edges.map((e) => e.child));
    result.roots = result.models.map((m) => m.id).filter((id) => !hasParent.has(id));
  }
  return notes;
}
