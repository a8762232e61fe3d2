/**
 * Puts found merges into a forest that was built without them: each merged child hangs from
 * its heaviest parent in the parent array, so families and roots stay right; typeEdges then
 * gives it one edge per parent.
 *
 * Models are not moved under a merged child afterwards. Moving a model whose distance to the
 * merge is below its distance to its tree parent was tried on the mnist-fc merge sets and every
 * move it made there was wrong (a grandchild fine-tuned back towards its grandparent's task lies
 * nearer to a merge of its parent's siblings), so fine-tunes of a merge are left where the tree
 * method put them: a known limitation (docs/detect.md).
 */
import type { FoundMerge } from './merge';
import { KeyedUnionFind } from '../../graph/union-find';

/** Mutates `parent` (model indices, −1 for a root). */
export function attachMerges(parent: Int32Array, merges: FoundMerge[]): void {
  for (const f of merges) parent[f.child] = f.parents[0].model;
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
