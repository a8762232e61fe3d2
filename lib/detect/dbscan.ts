/**
 * DBSCAN on D. A model with at least `minPts` models (itself included) within `eps` is a core
 * point; clusters are the core points connected through such neighbourhoods plus the border
 * points they reach; the rest is noise (label -1: a model related to nothing, a root alone).
 * Default minPts = 2 because a family may be a single parent-child pair; then DBSCAN is the
 * single-linkage cut at eps, i.e. the spanning forest under τ = eps.
 */
export function dbscan(dist: number[][], eps: number, minPts: number): Int32Array {
  const n = dist.length;
  const labels = new Int32Array(n).fill(-2);
  const neighbours = (i: number) => {
    const out: number[] = [];
    for (let j = 0; j < n; j++) if (Number.isFinite(dist[i][j]) && dist[i][j] <= eps) out.push(j);
    return out;
  };
  let cluster = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== -2) continue;
    const near = neighbours(i);
    if (near.length < minPts) {
      labels[i] = -1;
      continue;
    }
    labels[i] = cluster;
    const queue = near.filter((j) => j !== i);
    for (let q = 0; q < queue.length; q++) {
      const j = queue[q];
      if (labels[j] === -1) labels[j] = cluster;
      if (labels[j] !== -2) continue;
      labels[j] = cluster;
      const nj = neighbours(j);
      if (nj.length >= minPts) for (const x of nj) if (labels[x] === -2 || labels[x] === -1) queue.push(x);
    }
    cluster++;
  }
  return labels;
}
