/**
 * Puts found merges into a forest that was built without them: each merged child hangs from
 * its heaviest parent in the parent array (so families and roots stay right), and a model the
 * tree method placed elsewhere but that lies nearer to a merged child than to its own parent is
 * moved under it — a fine-tune of a merge, which the method could not see while the merge was
 * left out. Never a parent of the merge itself or one of their ancestors: that would close a cycle.
 */
import type { FoundMerge } from './merge';
import { KeyedUnionFind } from '../../graph/union-find';

function ancestorsOf(parent: Int32Array, m: number): Set<number> {
  const out = new Set<number>();
  for (let p = m; p >= 0 && !out.has(p); p = parent[p]) out.add(p);
  return out;
}

/** Mutates `parent` (model indices, −1 for a root); returns the models moved under a merge.
 * `dist` is the distance the method used. */
export function attachMerges(parent: Int32Array, merges: FoundMerge[], dist: number[][], isCopy: (m: number) => boolean): Set<number> {
  const moved = new Set<number>();
  for (const f of merges) parent[f.child] = f.parents[0].model;
  const mergeChildren = new Set(merges.map((f) => f.child));
  for (let x = 0; x < parent.length; x++) {
    if (parent[x] < 0 || mergeChildren.has(x) || isCopy(x)) continue;
    let best = -1;
    let bestD = dist[x][parent[x]];
    for (const f of merges) {
      const d = dist[x][f.child];
      if (!(d < bestD)) continue;
      // x may not sit above the merge: not one of its parents, nor an ancestor of one.
      const above = f.parents.some((p) => ancestorsOf(parent, p.model).has(x));
      if (above || ancestorsOf(parent, f.child).has(x)) continue;
      best = f.child;
      bestD = d;
    }
    if (best >= 0) {
      parent[x] = best;
      moved.add(x);
    }
  }
  return moved;
}

/** Families joined by every edge, a merge's second parent included (the forest has one per child). */
export function mergeFamilies(families: string[][], edges: { parent: string; child: string }[]): string[][] {
  const sets = new KeyedUnionFind<string>();
  for (const f of families) for (const id of f) sets.union(f[0], id);
  for (const e of edges) sets.union(e.parent, e.child);
  const groups = new Map<number, string[]>();
  for (const f of families) {
    for (const id of f) {
      const r = sets.find(id);
      if (!groups.has(r)) groups.set(r, []);
      groups.get(r)!.push(id);
    }
  }
  return [...groups.values()];
}
