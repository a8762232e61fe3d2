/**
 * Refitting a rooted family tree under shared drift. Fine-tunes of one family do not move in
 * exactly orthogonal directions: measured on trained MLP families, any two fine-tuning
 * increments correlate by about 0.1 (0.05–0.2), whatever their tasks. Model: every increment
 * δ_a (parent(a) → a, length l_a = d(parent(a), a)) has a component along a direction common
 * to the family, δ_a = l_a(√ρ·v + √(1−ρ)·w_a), the w_a orthonormal and orthogonal to v. Then
 *
 *   d²(x, y) = (1 − ρ)·S(x, y) + ρ·(h(x) − h(y))²
 *
 * with S(x, y) the sum of l² over the tree path (the additive part, additive-fit.ts) and
 * h(x) the sum of l from the root to x. Unlike the additive part this depends on the root:
 * siblings (paths that go up, then down) are predicted nearer than a parent–grandchild pair
 * with the same lengths. With ρ = 0 it is the additive criterion again.
 *
 * Given the root, the tree and ρ are fitted by alternating least squares: ρ in closed form
 * for the tree (clamped to [0, 1)), and the tree by best-improvement subtree moves (cut the
 * edge above a subtree, hang the subtree on any model outside it), each move checked on the
 * exact criterion with ρ refitted.
 */
import { addsChanges, changesOfTree } from './unchanged-tensors';

export interface SharedDriftFit {
  /** Parent pointers over local indices (−1 at the root). */
  parent: Int32Array;
  rho: number;
  cost: number;
}

/**
 * Families larger than this keep their additive tree: a pass of subtree moves costs O(n⁴)
 * here. A compute bound, not a tuning constant.
 */
export const MAX_REFIT_SIZE = 60;

function childrenOf(parent: Int32Array): number[][] {
  const ch: number[][] = Array.from({ length: parent.length }, () => []);
  parent.forEach((p, v) => p >= 0 && ch[p].push(v));
  return ch;
}

/** The criterion at its best ρ for one rooted tree. */
export function sharedDriftCost(d2: Float64Array, n: number, parent: Int32Array): { cost: number; rho: number } {
  const { S, h } = geometry(d2, n, parent);
  // Residual of the additive part, a, and the drift term's change to it, b: r = a − ρ·b.
  const m = (n * (n - 1)) / 2;
  const a = new Float64Array(m);
  const b = new Float64Array(m);
  let ab = 0;
  let bb = 0;
  let k = 0;
  for (let x = 0; x < n; x++) {
    for (let y = x + 1; y < n; y++, k++) {
      const s = S[x * n + y];
      a[k] = d2[x * n + y] - s;
      b[k] = (h[x] - h[y]) ** 2 - s;
      ab += a[k] * b[k];
      bb += b[k] * b[k];
    }
  }
  const rho = bb > 0 ? Math.min(1 - 1e-9, Math.max(0, ab / bb)) : 0;
  // Summed directly rather than expanded: the expansion cancels large terms.
  let cost = 0;
  for (let i = 0; i < m; i++) cost += (a[i] - rho * b[i]) ** 2;
  return { cost, rho };
}

/** Whether x lies in the subtree of v (v itself included). */
export function inSubtree(parent: Int32Array, v: number, x: number): boolean {
  for (let y = x; y >= 0; y = parent[y]) if (y === v) return true;
  return false;
}

/**
 * The best of the local searches from `start` (rooted at its −1 entry) and from the star
 * around that root (a base model with its fine-tunes), the earlier on ties.
 */
export function refitSharedDrift(d2: Float64Array, n: number, start: Int32Array, changes: Float64Array | null = null): SharedDriftFit {
  const root = start.indexOf(-1);
  const star = Int32Array.from(start, (_, v) => (v === root ? -1 : root));
  const a = improveRooted(d2, n, start, changes);
  const b = improveRooted(d2, n, star, changes);
  // Fewer implied tensor changes first (unchanged-tensors.ts), then the criterion.
  if (changes) {
    const ca = changesOfTree(changes, n, a.parent);
    const cb = changesOfTree(changes, n, b.parent);
    if (ca !== cb) return cb < ca ? b : a;
  }
  return b.cost < a.cost ? b : a;
}

/** Path sums S (n×n) and root distances h of a rooted tree. */
function geometry(d2: Float64Array, n: number, parent: Int32Array): { S: Float64Array; h: Float64Array } {
  const adj: number[][] = Array.from({ length: n }, () => []);
  parent.forEach((p, v) => {
    if (p >= 0) {
      adj[p].push(v);
      adj[v].push(p);
    }
  });
  const S = new Float64Array(n * n);
  const seen = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    seen[s] = s;
    queue[0] = s;
    let tail = 1;
    for (let i = 0; i < tail; i++) {
      const u = queue[i];
      for (const v of adj[u]) {
        if (seen[v] === s) continue;
        seen[v] = s;
        S[s * n + v] = S[s * n + u] + d2[u * n + v];
        queue[tail++] = v;
      }
    }
  }
  const h = new Float64Array(n);
  const root = parent.indexOf(-1);
  const order = [root];
  const ch = childrenOf(parent);
  for (let i = 0; i < order.length; i++) {
    for (const c of ch[order[i]]) {
      h[c] = h[order[i]] + Math.sqrt(d2[order[i] * n + c]);
      order.push(c);
    }
  }
  return { S, h };
}

/**
 * Best-improvement subtree moves from one rooted tree. Moving the subtree B of v under x
 * changes only the pairs across (a in A, b in B): their path sum becomes
 * S(a,x) + d²(x,v) + S(v,b) and every root distance in B shifts by the same amount, so each
 * candidate is priced from the current S and h with ρ held; the best move is then checked on
 * the exact criterion with ρ refitted (alternating least squares).
 */
function improveRooted(d2: Float64Array, n: number, start: Int32Array, changes: Float64Array | null): SharedDriftFit {
  let parent = Int32Array.from(start);
  let { cost, rho } = sharedDriftCost(d2, n, parent);
  const inB = new Uint8Array(n);
  for (let iter = 0; iter < 10 * n * n; iter++) {
    const { S, h } = geometry(d2, n, parent);
    let best: { v: number; x: number; gain: number } | null = null;
    for (let v = 0; v < n; v++) {
      if (parent[v] < 0) continue;
      inB.fill(0);
      const B: number[] = [];
      const A: number[] = [];
      for (let y = 0; y < n; y++) {
        if (inSubtree(parent, v, y)) {
          inB[y] = 1;
          B.push(y);
        } else A.push(y);
      }
      const cross = (x: number): number => {
        const w = d2[x * n + v];
        const shift = h[x] + Math.sqrt(w) - h[v];
        let c = 0;
        for (const a of A) {
          const base = S[a * n + x] + w;
          for (const b of B) {
            const dh = h[a] - h[b] - shift;
            const r = d2[a * n + b] - (1 - rho) * (base + S[v * n + b]) - rho * dh * dh;
            c += r * r;
          }
        }
        return c;
      };
      const current = cross(parent[v]);
      for (const x of A) {
        if (x === parent[v] || addsChanges(changes, n, parent, v, x)) continue;
        const gain = current - cross(x);
        if (gain > 1e-12 * cost && (best === null || gain > best.gain)) best = { v, x, gain };
      }
    }
    if (best === null) break;
    const next = Int32Array.from(parent);
    next[best.v] = best.x;
    const exact = sharedDriftCost(d2, n, next);
    if (!(exact.cost < cost - 1e-12 * cost)) break;
    parent = next;
    cost = exact.cost;
    rho = exact.rho;
  }
  return { parent, rho, cost };
}
