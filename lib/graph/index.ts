/**
 * Graph building blocks shared by learning-free detection (lib/detect) and the learned
 * detector (lib/learned): disjoint sets, spanning forests and components, Chu-Liu/Edmonds,
 * tree path sums, shortest-path completion, and the seeded generator of both.
 */
export { UnionFind, KeyedUnionFind } from './union-find';
export {
  minimumSpanningForest, forestComponents, thresholdComponents, labelsFromGroups, groupsFromLabels, isForest, type UndirectedEdge,
} from './components';
export { minimumArborescence, arborescenceUnderVirtualRoot, type WeightedEdge, type Arborescence } from './edmonds';
export { pathSums, additiveCost, type TreeEdge } from './tree-paths';
export { fillMissing } from './shortest-paths';
export { createRng, weightedPick, type Mulberry32Rng } from './rng';
