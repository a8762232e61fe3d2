/**
 * Typed lineage (lib/io/edge-types.ts): the detectors of each non-fine-tune kind, one module
 * per kind, and the step that turns a forest plus their findings into typed edges.
 *   duplicate.ts  identical weights (distance 0 in the Gram), direction undetermined
 *   merge.ts      convex combinations of family members, fitted on the Gram (simplex-fit.ts)
 *   quantized.ts  lower-precision copies: distance = the rounding noise their dtype implies
 *   attach.ts     merges put back into the forest the tree method built without them
 *   declared.ts   declared bases (lib/io/declared.ts) against the weights, and as a prior
 */
import type { DetectedEdge } from '../types';
import type { FoundMerge } from './merge';

export { findMerges, MAX_MERGE_PARENTS, type FoundMerge } from './merge';
export { attachMerges, mergeFamilies } from './attach';
export { orderCopies } from './duplicate';
export { fitSimplex, type SimplexFit } from './simplex-fit';
export { findQuantized, FORMAT_NOISE, SLACK, type FoundQuantized } from './quantized';
export { applyDeclared, STRONG, NEAR, type DeclarationInput, type DeclaredUse } from './declared';

/**
 * Replaces the single forest edge of each merged child by one 'merge' edge per parent (with its
 * weight; confidence 1 − ratio/bound: how far inside the bound the fit fell) and types every
 * other edge as `kindOf` says (duplicate, quantized or finetune).
 */
export function typeEdges(
  edges: DetectedEdge[],
  ids: string[],
  merges: FoundMerge[],
  /** The type of the (single) forest edge into a child that is not a merge. */
  kindOf: (id: string) => 'finetune' | 'duplicate' | 'quantized' | 'peft',
  mergeRatio: number,
  distance: (a: number, b: number) => number,
): DetectedEdge[] {
  const byChild = new Map(merges.map((f) => [ids[f.child], f]));
  const out: DetectedEdge[] = [];
  for (const e of edges) {
    const f = byChild.get(e.child);
    if (f) {
      const confidence = Math.min(1, Math.max(0, 1 - f.ratio / mergeRatio));
      for (const p of f.parents) out.push({ parent: ids[p.model], child: e.child, type: 'merge', weight: p.weight, confidence, distance: distance(p.model, f.child) });
    } else out.push({ ...e, type: kindOf(e.child) });
  }
  return out;
}
