/**
 * Path sums over an undirected tree with edge weights taken from a squared-distance matrix,
 * and how well they explain that matrix (the additive-tree criterion, lib/detect/additive-fit.ts;
 * also a feature of the learned detector).
 */

export interface TreeEdge {
  a: number;
  b: number;
}

export function adjacency(n: number, edges: TreeEdge[]): number[][] {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) {
    adj[e.a].push(e.b);
    adj[e.b].push(e.a);
  }
  return adj;
}

/** S[x·n + y] = Σ d² over the tree path from x to y. */
export function pathSums(d2: Float64Array, n: number, edges: TreeEdge[]): Float64Array {
  const adj = adjacency(n, edges);
  const S = new Float64Array(n * n);
  const seen = new Uint8Array(n);
  const queue = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    seen.fill(0);
    seen[s] = 1;
    queue[0] = s;
    let tail = 1;
    for (let h = 0; h < tail; h++) {
      const u = queue[h];
      for (const v of adj[u]) {
        if (seen[v]) continue;
        seen[v] = 1;
        S[s * n + v] = S[s * n + u] + d2[u * n + v];
        queue[tail++] = v;
      }
    }
  }
  return S;
}

/** The criterion: Σ_{x<y} (d²(x,y) − path sum)². */
export function additiveCost(d2: Float64Array, n: number, edges: TreeEdge[]): number {
  const S = pathSums(d2, n, edges);
  let cost = 0;
  for (let x = 0; x < n; x++) {
    for (let y = x + 1; y < n; y++) {
      const r = d2[x * n + y] - S[x * n + y];
      cost += r * r;
    }
  }
  return cost;
}
