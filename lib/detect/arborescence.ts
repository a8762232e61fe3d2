/**
 * The K-free methods.
 * - arborescence: every ordered pair a→b with score(a) < score(b) is a candidate edge of
 *   weight D(a,b); a virtual root reaches every model at cost τ; the minimum spanning
 *   arborescence (Chu-Liu/Edmonds) then gives each model the cheapest admissible parent, or
 *   none when nothing admissible is nearer than τ. Multi-generation trees come out directly.
 * - spanning-forest: the undirected minimum spanning forest under the same τ (the same
 *   optimisation with both directions admissible), then each tree oriented as a whole by the
 *   score, so that the direction of an edge is decided with its whole family.
 */
import { minimumSpanningForest } from '../graph/components';
import { orientForest } from './orient';
import { scoreArborescence } from './within';

export function arborescenceMethod(dist: number[][], score: ArrayLike<number>, tau: number): Int32Array {
  const n = dist.length;
  const parent = new Int32Array(n).fill(-1);
  scoreArborescence(dist, score, [...Array(n).keys()], tau, parent);
  return parent;
}

export function spanningForestMethod(dist: number[][], score: ArrayLike<number>, tau: number): Int32Array {
  const nodes = [...Array(dist.length).keys()];
  return orientForest(dist.length, nodes, minimumSpanningForest(dist, nodes, tau), score);
}
