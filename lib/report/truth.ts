/**
 * Recovered edges against a known lineage, as the reports mark them. A reversed edge (right
 * pair, wrong direction) is kept apart from a wrong one because direction is the hard part of
 * the problem (docs/detect.md): a reader wants to see pairing and direction errors
 * separately. A true edge counts as missed only when neither direction was recovered, so a
 * reversed edge is not counted twice.
 */
import type { DetectedEdge } from '../detect/types';
import type { Lineage } from '../io/types';
import { edgeTypeOf } from '../io/edge-types';

export type TruthMark = 'right' | 'reversed' | 'wrong';

export interface TruthComparison {
  /** One mark per detected edge, in the order of the edges given. */
  marks: TruthMark[];
  /** True edges whose pair was not recovered in either direction. */
  missed: { parent: string; child: string }[];
  right: number;
  reversed: number;
  wrong: number;
  /** Number of true edges. */
  total: number;
}

export const TRUTH_SYMBOL: Record<TruthMark, string> = { right: '✓', reversed: '↔', wrong: '✗' };

const key = (p: string, c: string): string => JSON.stringify([p, c]);

export function compareToTruth(edges: readonly DetectedEdge[], truth: Lineage): TruthComparison {
  const trueEdges = new Set(truth.edges.map((e) => key(e.parent, e.child)));
  // A duplicate has no direction: either way round is right (as in lib/eval/metrics.ts).
  const undirected = new Set(truth.edges.filter((e) => edgeTypeOf(e) === 'duplicate').flatMap((e) => [key(e.parent, e.child), key(e.child, e.parent)]));
  const found = new Set<string>();
  const marks = edges.map((e): TruthMark => {
    found.add(key(e.parent, e.child));
    found.add(key(e.child, e.parent));
    if (trueEdges.has(key(e.parent, e.child)) || undirected.has(key(e.parent, e.child))) return 'right';
    if (trueEdges.has(key(e.child, e.parent))) return 'reversed';
    return 'wrong';
  });
  const missed = truth.edges.filter((e) => !found.has(key(e.parent, e.child))).map((e) => ({ parent: e.parent, child: e.child }));
  const count = (m: TruthMark): number => marks.filter((x) => x === m).length;
  return { marks, missed, right: count('right'), reversed: count('reversed'), wrong: count('wrong'), total: trueEdges.size };
}

/** "3/4 true edges recovered with direction · 1 reversed ↔ · 0 wrong ✗ · 0 missed" */
export function summarizeTruth(t: TruthComparison): string {
  return (
    `truth: ${t.right}/${t.total} true edges recovered ✓ · ${t.reversed} reversed ↔ · ` +
    `${t.wrong} wrong ✗ · ${t.missed.length} missed`
  );
}
