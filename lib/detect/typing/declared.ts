/**
 * Declared bases against the weights (lib/io/declared.ts reads them). Per model the verdict is
 * agree (a declared base is a detected parent; for a duplicate, either direction), disagree
 * (declared bases are among the models but none is a detected parent: the evidence says what
 * the weights found instead) or none (nothing declared, or only bases outside the set).
 *
 * With `prior`, a declaration may decide an edge the weights leave open, never one they settle:
 * the declared base becomes the parent only when the edge it replaces is a duplicate (no
 * direction at all) or has confidence below STRONG, the two models are in one family, and the
 * base is either the model's detected child (the edge is turned round) or no descendant of it
 * and not much farther than the detected parent (≤ NEAR × its distance). Merged children are
 * left alone: their parents come from a fit, not from a tree.
 *
 * Identical copies are the one case the weights cannot decide at all: which copy the tree draws
 * on top (and hangs the group's children from) is arbitrary. So by default ('copies') a
 * declaration may order a group of copies and nothing else: a copy whose card names the other
 * as its base is drawn as its child. That moves no weight evidence (the copies' statistics are
 * equal) and a wrong card can only choose between identical models. 'none' compares only.
 */
import type { DetectedEdge, DetectionResult, DeclaredBase } from '../types';
import { edgeTypeOf } from '../../io/edge-types';

/** Confidence at or above which the weights' edge stands against any declaration. */
export const STRONG = 0.5;
/** A declared base farther than this times the detected parent's distance is not taken. */
export const NEAR = 1.5;

export interface DeclarationInput {
  base: string;
  source: string;
  resolved: string | null;
}

function distanceOf(result: DetectionResult): (a: string, b: string) => number {
  const d = result.distances;
  if (!d) return () => NaN;
  const at = new Map(d.ids.map((id, i) => [id, i]));
  return (a, b) => {
    const i = at.get(a);
    const j = at.get(b);
    return i === undefined || j === undefined ? NaN : d.matrix[i][j];
  };
}

/** What declarations may change: nothing, the order of identical copies, or weak edges too. */
export type DeclaredUse = 'none' | 'copies' | 'prior';

/** Applies declarations as `use` allows (a boolean: true = 'prior', false = 'none') and sets
 * every model's `declared`; returns notes for warnings. */
export function applyDeclared(result: DetectionResult, decl: Map<string, DeclarationInput[]>, use: DeclaredUse | boolean): string[] {
  const mode: DeclaredUse = use === true ? 'prior' : use === false ? 'none' : use;
  const notes: string[] = [];
  const dist = distanceOf(result);
  if (mode !== 'none') {
    for (const m of result.models) {
      for (const d of decl.get(m.id) ?? []) {
        if (d.resolved === null) continue;
        if (mode === 'copies' && !isCopyOnTop(result, m.id, d.resolved)) continue;
        const note = reparent(result, m.id, d.resolved, dist);
        if (note) notes.push(`${note} (declared in ${d.source})`);
      }
    }
  }
  const familyOf = new Map<string, number>();
  result.families.forEach((f, i) => f.forEach((id) => familyOf.set(id, i)));
  // Identical models cannot be told apart, so a base naming either copy names both, and a copy
  // shares the other's parent: which copy the tree drew on top is arbitrary.
  const copies = new Map<string, Set<string>>();
  for (const e of result.edges) {
    if (edgeTypeOf(e) !== 'duplicate') continue;
    const g = new Set([...(copies.get(e.parent) ?? [e.parent]), ...(copies.get(e.child) ?? [e.child])]);
    for (const id of g) copies.set(id, g);
  }
  const same = (id: string) => copies.get(id) ?? new Set([id]);
  for (const m of result.models) {
    const ds = decl.get(m.id) ?? [];
    const into = result.edges.filter((e) => same(m.id).has(e.child) || (edgeTypeOf(e) === 'duplicate' && e.parent === m.id));
    const parentOf = (e: DetectedEdge) => (e.child === m.id ? e.parent : same(m.id).has(e.child) && e.parent !== m.id ? e.parent : e.child);
    const inSet = ds.filter((d) => d.resolved !== null);
    const bases = ds.map((d) => d.resolved ?? d.base);
    let declared: DeclaredBase;
    if (ds.length === 0) declared = { bases: [], verdict: 'none' };
    else if (inSet.length === 0) declared = { bases, verdict: 'none', evidence: ds.map((d) => `${d.source}: ${d.base} (not among the compared models)`) };
    else if (inSet.some((d) => into.some((e) => same(parentOf(e)).has(d.resolved!)))) declared = { bases, verdict: 'agree', evidence: inSet.map((d) => `${d.source}: ${d.base}`) };
    else {
      const found = into.filter((e) => e.child === m.id);
      const weights = found.length
        ? `the weights put ${found.map((e) => `${e.parent} (${edgeTypeOf(e)}, confidence ${e.confidence.toFixed(2)}${Number.isFinite(dist(e.parent, m.id)) ? `, distance ${dist(e.parent, m.id).toPrecision(4)}` : ''})`).join(' and ')} as parent`
        : 'the weights give it no parent';
      const ev = inSet.map((d) => {
        const same = familyOf.get(d.resolved!) === familyOf.get(m.id);
        const below = result.edges.some((e) => e.parent === m.id && e.child === d.resolved);
        const dd = dist(m.id, d.resolved!);
        return `${d.source}: ${d.base} — ${below ? 'detected as its child' : same ? 'same family' : 'a different family'}${Number.isFinite(dd) ? `, distance ${dd.toPrecision(4)}` : ''}`;
      });
      declared = { bases, verdict: 'disagree', evidence: [...ev, weights] };
      notes.push(`${m.id}: declared base ${inSet.map((d) => d.base).join(', ')} disagrees with the weights (${weights})`);
    }
    m.declared = declared;
  }
  return notes;
}

/** Whether `id` is drawn as the parent of its identical copy `base` (a duplicate edge). */
function isCopyOnTop(result: DetectionResult, id: string, base: string): boolean {
  return result.edges.some((e) => e.parent === id && e.child === base && edgeTypeOf(e) === 'duplicate');
}

/** Makes `base` the parent of `id` where the prior may; a note when it did, else null. */
function reparent(result: DetectionResult, id: string, base: string, dist: (a: string, b: string) => number): string | null {
  const into = result.edges.filter((e) => e.child === id);
  if (into.some((e) => edgeTypeOf(e) === 'merge')) return null;
  if (into.some((e) => e.parent === base)) return null;
  const family = result.families.find((f) => f.includes(id));
  if (!family || !family.includes(base)) return null;
  const current = into[0];
  const reversed = result.edges.find((e) => e.parent === id && e.child === base);
  if (reversed) {
    if (!(edgeTypeOf(reversed) === 'duplicate' || reversed.confidence < STRONG)) return null;
    // Turning identical copies round moves no evidence: the family parent stays where it is.
    if (edgeTypeOf(reversed) !== 'duplicate' && current && !(edgeTypeOf(current) === 'duplicate' || current.confidence < STRONG)) return null;
    // Turn the edge round: base takes id's place (and its parent), id hangs from base.
    reversed.parent = base;
    reversed.child = id;
    if (current) current.child = base;
    // Identical weights: whatever hung from the copy hangs from the original the card names.
    if (edgeTypeOf(reversed) === 'duplicate') for (const e of result.edges) if (e.parent === id && e !== reversed) e.parent = base;
    fixRoots(result);
    return `${base} → ${id} turned round to follow the declaration`;
  }
  if (current && !(edgeTypeOf(current) === 'duplicate' || current.confidence < STRONG)) return null;
  // No cycle: base may not lie below id.
  const below = new Set<string>([id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of result.edges) if (below.has(e.parent) && !below.has(e.child)) (below.add(e.child), (grew = true));
  }
  if (below.has(base)) return null;
  const dNew = dist(base, id);
  const dOld = current ? dist(current.parent, id) : NaN;
  if (current && !(dNew <= NEAR * dOld)) return null;
  if (current) {
    current.parent = base;
    current.distance = Number.isFinite(dNew) ? dNew : current.distance;
  } else {
    result.edges.push({ parent: base, child: id, type: 'finetune', confidence: 0, distance: Number.isFinite(dNew) ? dNew : undefined });
  }
  fixRoots(result);
  return `${id} placed under its declared base ${base}`;
}

function fixRoots(result: DetectionResult): void {
  const hasParent = new Set(result.edges.map((e) => e.child));
  result.roots = result.models.map((m) => m.id).filter((id) => !hasParent.has(id));
}
