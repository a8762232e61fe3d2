/**
 * Agglomerative clustering on D, merging the two closest clusters until K remain, with
 * Lance-Williams updates: average linkage (UPGMA) on D, Ward on D² (Ward's criterion is a
 * squared-distance one). Pairs at infinite distance are never merged: when K is smaller than
 * the number of unrelated groups, clustering stops early. The merge sequence is computed once
 * (O(n³)) and cut at any K in O(n²), so auto-K does not redo it per K.
 */
import type { Linkage } from './options';
import { canonicalLabels } from './kmeans';
import { UnionFind } from '../graph/union-find';

export interface Merge {
  a: number;
  b: number;
  height: number;
}

/** The merges in order (each joins the clusters holding models a and b). */
export function agglomerativeMerges(dist: number[][], linkage: Linkage): Merge[] {
  const n = dist.length;
  const ward = linkage === 'ward';
  const d = dist.map((row) => row.map((x) => (ward ? x * x : x)));
  const size = new Array<number>(n).fill(1);
  const alive = new Array<boolean>(n).fill(true);
  const merges: Merge[] = [];
  for (let step = 1; step < n; step++) {
    let bi = -1;
    let bj = -1;
    let best = Infinity;
    for (let i = 0; i < n; i++) {
      if (!alive[i]) continue;
      for (let j = i + 1; j < n; j++) {
        if (alive[j] && d[i][j] < best) {
          best = d[i][j];
          bi = i;
          bj = j;
        }
      }
    }
    if (bi < 0) break;
    for (let m = 0; m < n; m++) {
      if (!alive[m] || m === bi || m === bj) continue;
      let v: number;
      if (ward) {
        const t = size[bi] + size[bj] + size[m];
        v = ((size[bi] + size[m]) * d[bi][m] + (size[bj] + size[m]) * d[bj][m] - size[m] * d[bi][bj]) / t;
      } else {
        v = (size[bi] * d[bi][m] + size[bj] * d[bj][m]) / (size[bi] + size[bj]);
      }
      d[bi][m] = d[m][bi] = v;
    }
    size[bi] += size[bj];
    alive[bj] = false;
    merges.push({ a: bi, b: bj, height: best });
  }
  return merges;
}

/** Labels after applying merges until at most K clusters remain. */
export function cutMerges(merges: Merge[], n: number, k: number): Int32Array {
  const uf = new UnionFind(n);
  for (let i = 0; i < merges.length && n - i > Math.max(1, k); i++) uf.union(merges[i].a, merges[i].b);
  return canonicalLabels(Int32Array.from({ length: n }, (_, v) => uf.find(v)));
}

/** Labels for any K: the merge sequence is computed once and cut at each K. */
export function agglomerativeClusterer(dist: number[][], linkage: Linkage): (k: number) => Int32Array {
  let merges: Merge[] | null = null;
  return (k) => {
    merges ??= agglomerativeMerges(dist, linkage);
    return cutMerges(merges, dist.length, k);
  };
}

export function agglomerative(dist: number[][], k: number, linkage: Linkage): Int32Array {
  return agglomerativeClusterer(dist, linkage)(k);
}
