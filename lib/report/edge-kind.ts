/**
 * How each edge type looks in every report, in one place so text, DOT and HTML agree: a
 * fine-tune is the unmarked default (files without types hold only fine-tunes), every other
 * type carries a word, merges their weight, and a duplicate says its direction is unknown.
 */
import type { DetectedEdge, DetectionResult } from '../detect/types';
import { edgeTypeOf, type EdgeType } from '../io/edge-types';
import { formatNumber } from './format';

/** Short tag for a non-fine-tune edge ('' for a plain fine-tune). */
export function edgeTag(e: DetectedEdge): string {
  const t = edgeTypeOf(e);
  switch (t) {
    case 'finetune':
      return e.lowRank ? `low-rank${e.rank ? ` r${e.rank}` : ''}` : '';
    case 'merge':
      return e.weight === undefined ? 'merge' : `merge w ${formatNumber(e.weight)}`;
    case 'duplicate':
      return 'duplicate (direction undetermined)';
    default:
      return t;
  }
}

/** Graphviz attributes per type: arrowheads differ so the kinds read apart even in grey. */
export const DOT_EDGE_STYLE: Record<EdgeType, string[]> = {
  finetune: [],
  peft: ['arrowhead=empty'],
  merge: ['arrowhead=diamond', 'style=bold'],
  quantized: ['arrowhead=tee'],
  duplicate: ['dir=none', 'style=dotted'],
};

/** The words of the legend, in the same order as the types. */
export const EDGE_LEGEND: Record<EdgeType, string> = {
  finetune: 'fine-tune: plain arrow',
  peft: 'adapter (PEFT): open arrow',
  merge: 'merge: bold, diamond head, one edge per parent with its weight',
  quantized: 'quantized copy: bar head',
  duplicate: 'duplicate: dotted, no direction (identical weights cannot be ordered)',
};

/** Merged children with their weighted parents, in the order the result lists them. */
export function mergesOf(result: Pick<DetectionResult, 'edges'>): { child: string; parents: DetectedEdge[] }[] {
  const by = new Map<string, DetectedEdge[]>();
  for (const e of result.edges) {
    if (edgeTypeOf(e) !== 'merge') continue;
    if (!by.has(e.child)) by.set(e.child, []);
    by.get(e.child)!.push(e);
  }
  return [...by].map(([child, parents]) => ({ child, parents }));
}

/** "0.52 × a + 0.48 × b" */
export function mergeFormula(parents: DetectedEdge[]): string {
  return parents.map((e) => (e.weight === undefined ? e.parent : `${formatNumber(e.weight)} × ${e.parent}`)).join(' + ');
}
