/**
 * How reports show a family's direction confidence (DetectionResult.familyDirections): 1 −
 * the expected number of its reversed edges, or "undecided" for a family left
 * undirected by minDirectionConfidence. Matched to a drawn family by its root.
 */
import type { DetectionResult, FamilyDirection } from '../detect/types';
import type { ForestView } from './forest';
import { formatConfidence } from './format';

/** The direction record of the family drawn with these ids, if the result has one. */
export function directionOf(result: DetectionResult, ids: string[]): FamilyDirection | undefined {
  const members = new Set(ids);
  return result.familyDirections?.find((f) => members.has(f.root));
}

/** "direction 0.93", "direction undecided (0.55)", or '' when unknown. */
export function directionLabel(d: FamilyDirection | undefined): string {
  if (!d || d.confidence === null) return '';
  return d.directed ? `direction ${formatConfidence(d.confidence)}` : `direction undecided (${formatConfidence(d.confidence)})`;
}

/** One line over all drawn families, for the HTML legend ('' without family directions). */
export function directionsSummary(result: DetectionResult, forest: ForestView): string {
  const parts = forest.families
    .map((f) => ({ n: f.number, label: directionLabel(directionOf(result, f.ids)) }))
    .filter((x) => x.label);
  return parts.length ? `Family ${parts.map((x) => `${x.n}: ${x.label}`).join(' · ')}. ` : '';
}
