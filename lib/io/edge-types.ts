/**
 * The kinds of lineage edge, shared by the ground truth (lineage.json) and detection results.
 * One list so that the reader, the detectors, the reports and the metrics cannot disagree.
 *
 * - finetune:  the child was trained from the parent (optionally low-rank: `lowRank`, `rank`);
 * - peft:      the child is the parent plus an adapter (LoRA and kin), read as an adapter file;
 * - merge:     the child is a combination of several parents; one edge per parent with its weight;
 * - quantized: the child is the parent stored at lower precision;
 * - duplicate: the two hold identical weights; the direction is undetermined.
 */
export const EDGE_TYPES = ['finetune', 'peft', 'merge', 'quantized', 'duplicate'] as const;

export type EdgeType = (typeof EDGE_TYPES)[number];

export function isEdgeType(v: unknown): v is EdgeType {
  return typeof v === 'string' && (EDGE_TYPES as readonly string[]).includes(v);
}

/** An edge's type: an edge that names none (files written before types existed) is a fine-tune. */
export function edgeTypeOf(e: { type?: EdgeType }): EdgeType {
  return e.type ?? 'finetune';
}
