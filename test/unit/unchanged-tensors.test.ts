/**
 * Unchanged tensors in the tree searches: with a matrix of tensor changes, every search keeps
 * to the trees that imply the fewest of them (the minimum spanning trees of the matrix), from
 * any start, and among those trees still follows its own criterion.
 */
import { fitAdditiveTree, improveTree } from '../../lib/detect/additive-fit';
import { refitDriftCorrelations } from '../../lib/detect/drift-correlations';
import { refitSharedDrift } from '../../lib/detect/shared-drift';
import { changesOfEdges, changesOfTree } from '../../lib/detect/unchanged-tensors';
import { createRng } from '../../lib/graph/rng';

/** A random family in R^dim and, per tensor of `tensors`, which models keep it unchanged. */
function randomCase(n: number, tensors: number, seed: number): { d2: Float64Array; changes: Float64Array; parent: Int32Array } {
  const rng = createRng(seed);
  const parent = new Int32Array(n).fill(-1);
  for (let v = 1; v < n; v++) parent[v] = rng.int(v);
  // Each tensor: a value label per model; a model keeps its parent's label unless it trains the
  // tensor (probability ½), so every label class is connected in the true tree.
  const changes = new Float64Array(n * n);
  for (let t = 0; t < tensors; t++) {
    const label = new Int32Array(n);
    for (let v = 1; v < n; v++) label[v] = rng.next() < 0.5 ? label[parent[v]] : v;
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (label[a] !== label[b]) changes[a * n + b]++;
  }
  const dim = 23;
  const x: Float64Array[] = [Float64Array.from({ length: dim }, () => rng.next())];
  for (let v = 1; v < n; v++) x.push(Float64Array.from(x[parent[v]], (c) => c + (rng.next() - 0.5)));
  const d2 = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) d2[a * n + b] = x[a].reduce((s, c, k) => s + (c - x[b][k]) ** 2, 0);
  return { d2, changes, parent };
}

/** The least Σ of a matrix over a spanning tree (Prim, in float64). */
function minimumSpanning(w: Float64Array, n: number): number {
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  best[0] = 0;
  let total = 0;
  for (let k = 0; k < n; k++) {
    let u = -1;
    for (let v = 0; v < n; v++) if (!inTree[v] && (u < 0 || best[v] < best[u])) u = v;
    inTree[u] = 1;
    total += best[u];
    for (let v = 0; v < n; v++) if (!inTree[v]) best[v] = Math.min(best[v], w[u * n + v]);
  }
  return total;
}

describe('tree searches under unchanged tensors', () => {
  test.each([4, 7, 11, 13])('the additive fit implies the fewest changes (n = %i)', (n) => {
    for (let seed = 0; seed < 6; seed++) {
      const { d2, changes, parent } = randomCase(n, 5, 100 * n + seed);
      const least = minimumSpanning(changes, n);
      // The true tree is one of the least (every class connected).
      expect(changesOfTree(changes, n, parent)).toBe(least);
      const fit = fitAdditiveTree(d2, n, changes);
      expect(fit.edges).toHaveLength(n - 1);
      expect(changesOfEdges(changes, n, fit.edges)).toBe(least);
    }
  });

  test('a repair starts anywhere: from the star around any model', () => {
    const n = 9;
    const { d2, changes } = randomCase(n, 6, 7);
    const least = minimumSpanning(changes, n);
    for (let c = 0; c < n; c++) {
      const star = [...Array(n).keys()].filter((v) => v !== c).map((v) => ({ a: c, b: v }));
      expect(changesOfEdges(changes, n, improveTree(d2, n, star, changes).edges)).toBe(least);
    }
  });

  test('without informative tensors the fit is the unconstrained one', () => {
    const n = 8;
    const { d2 } = randomCase(n, 0, 3);
    const flat = new Float64Array(n * n).fill(4);
    for (let a = 0; a < n; a++) flat[a * n + a] = 0;
    expect(fitAdditiveTree(d2, n, flat).edges).toEqual(fitAdditiveTree(d2, n).edges);
  });

  test.each([6, 10])('the refits keep the least changes from a tree that has them (n = %i)', (n) => {
    for (let seed = 0; seed < 4; seed++) {
      const { d2, changes } = randomCase(n, 4, 7 * n + seed);
      const least = minimumSpanning(changes, n);
      const fit = fitAdditiveTree(d2, n, changes);
      // Root the fitted tree at model 0.
      const start = new Int32Array(n).fill(-1);
      const adj: number[][] = Array.from({ length: n }, () => []);
      for (const e of fit.edges) {
        adj[e.a].push(e.b);
        adj[e.b].push(e.a);
      }
      const seen = new Uint8Array(n);
      seen[0] = 1;
      for (const queue = [0]; queue.length > 0; ) {
        const u = queue.shift()!;
        for (const v of adj[u]) if (!seen[v]) (seen[v] = 1), (start[v] = u), queue.push(v);
      }
      expect(changesOfTree(changes, n, refitSharedDrift(d2, n, start, changes).parent)).toBe(least);
      expect(changesOfTree(changes, n, refitDriftCorrelations(d2, n, start, changes).parent)).toBe(least);
    }
  });
});
