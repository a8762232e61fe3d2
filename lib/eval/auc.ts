/**
 * How well edge confidences rank right edges above wrong ones: the area under the ROC curve
 * (Mann-Whitney), 0.5 = no better than chance (docs/confidence.md "How well it ranks").
 */
import type { DetectionResult } from '../detect/types';
import type { Lineage } from '../io/types';

/** AUC of `confidence` for right (true directed) against wrong predicted edges; null when
 * either group is empty. Ties count one half. */
export function confidenceAuc(result: DetectionResult, truth: Lineage): number | null {
  const trueEdges = new Set(truth.edges.map((e) => `${e.parent}\u0000${e.child}`));
  const right: number[] = [];
  const wrong: number[] = [];
  for (const e of result.edges) (trueEdges.has(`${e.parent}\u0000${e.child}`) ? right : wrong).push(e.confidence);
  if (right.length === 0 || wrong.length === 0) return null;
  let wins = 0;
  for (const r of right) for (const w of wrong) wins += r > w ? 1 : r === w ? 0.5 : 0;
  return wins / (right.length * wrong.length);
}
