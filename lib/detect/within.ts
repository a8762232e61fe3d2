/**
 * Turning clusters into family trees (the clustering methods). A cluster is one family; how
 * its members are linked is the `within` option:
 * - star: the lowest-score member is the parent of all others (the paper's kmeans-after);
 *   right for one parent fine-tuned many times, wrong for several generations.
 * - arborescence: Chu-Liu/Edmonds inside the cluster on edges a→b with score(a) < score(b):
 *   multi-generation, but each edge's direction rests on one score comparison.
 * - tree: the cluster's minimum spanning tree, oriented as a whole (measured to beat per-edge
 *   decisions, docs/detect.md); the default of the clustering methods.
 * Members at infinite distance from the rest of their cluster (possible only when K forced
 * unrelated models together) are split off as roots of their own.
 */
import { arborescenceUnderVirtualRoot, type WeightedEdge } from '../graph/edmonds';
import { groupsFromLabels, minimumSpanningForest } from '../graph/components';
import { orientForest } from './orient';
import type { Within } from './options';

/** Edmonds on score-ascending edges among `nodes`; unlinkable nodes become roots. */
export function scoreArborescence(dist: number[][], score: ArrayLike<number>, nodes: number[], tau: number, parent: Int32Array): void {
  const m = nodes.length;
  const edges: WeightedEdge[] = [];
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      const d = dist[nodes[a]][nodes[b]];
      if (a !== b && Number.isFinite(d) && d < tau && score[nodes[a]] < score[nodes[b]]) edges.push({ from: a, to: b, weight: d });
    }
  }
  const local = arborescenceUnderVirtualRoot(m, edges, Number.isFinite(tau) ? tau : null);
  for (let b = 0; b < m; b++) parent[nodes[b]] = local[b] >= 0 ? nodes[local[b]] : -1;
}

export function forestFromClusters(labels: ArrayLike<number>, dist: number[][], score: ArrayLike<number>, within: Within): Int32Array {
  const n = labels.length;
  const parent = new Int32Array(n).fill(-1);
  for (const members of groupsFromLabels(labels)) {
    if (members.length < 2) continue;
    if (within === 'star') {
      let root = members[0];
      for (const v of members) if (score[v] < score[root] || (score[v] === score[root] && v < root)) root = v;
      for (const v of members) if (v !== root && Number.isFinite(dist[root][v])) parent[v] = root;
    } else if (within === 'arborescence') {
      scoreArborescence(dist, score, members, Infinity, parent);
    } else {
      const oriented = orientForest(n, members, minimumSpanningForest(dist, members), score);
      for (const v of members) parent[v] = oriented[v];
    }
  }
  return parent;
}
