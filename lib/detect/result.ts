/**
 * The forest part of a DetectionResult (edges, roots, families, by model id) from a parent
 * array: one place for every detector, learning-free or learned, so that results have the
 * same shape and order whichever produced them.
 */
import { forestComponents } from '../graph/components';
import type { DetectedEdge, DetectionResult } from './types';

export function forestResult(
  ids: string[],
  parent: ArrayLike<number>,
  /** What the detector knows about the edge from p into child m. */
  edge: (m: number, p: number) => Omit<DetectedEdge, 'parent' | 'child'>,
): Pick<DetectionResult, 'edges' | 'roots' | 'families'> {
  const edges: DetectedEdge[] = [];
  for (let m = 0; m < ids.length; m++) {
    const p = parent[m];
    if (p >= 0) edges.push({ parent: ids[p], child: ids[m], ...edge(m, p) });
  }
  return {
    edges,
    roots: ids.filter((_, m) => parent[m] < 0),
    families: forestComponents(parent).map((f) => f.map((m) => ids[m])),
  };
}
