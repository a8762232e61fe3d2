import { minimumArborescence, type WeightedEdge } from '../../lib/graph/edmonds';
import { createRng } from '../../lib/graph/rng';

/** Exhaustive minimum arborescence: every choice of one incoming edge per reachable node. */
function bruteForce(n: number, root: number, edges: WeightedEdge[]): number {
  const reach = new Set([root]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of edges) if (reach.has(e.from) && !reach.has(e.to)) { reach.add(e.to); changed = true; }
  }
  const nodes = [...reach].filter((v) => v !== root);
  const incoming = nodes.map((v) => edges.filter((e) => e.to === v && e.from !== v && reach.has(e.from)));
  let best = Infinity;
  const choice = new Array<WeightedEdge>(nodes.length);
  // No pruning on partial sums: weights may be negative.
  const rec = (i: number, w: number) => {
    if (i === nodes.length) {
      if (w >= best) return;
      const parent = new Map(choice.map((e) => [e.to, e.from]));
      for (const v of nodes) {
        let x = v;
        for (let steps = 0; x !== root; steps++) {
          if (steps > n) return;
          x = parent.get(x)!;
        }
      }
      best = w;
      return;
    }
    for (const e of incoming[i]) { choice[i] = e; rec(i + 1, w + e.weight); }
  };
  rec(0, 0);
  return best;
}

function checkArborescence(n: number, root: number, edges: WeightedEdge[], parent: Int32Array, unreachable: number[]) {
  const un = new Set(unreachable);
  for (let v = 0; v < n; v++) {
    if (v === root || un.has(v)) { expect(parent[v]).toBe(-1); continue; }
    expect(parent[v]).toBeGreaterThanOrEqual(0);
    expect(edges.some((e) => e.from === parent[v] && e.to === v)).toBe(true);
    let x = v;
    for (let steps = 0; x !== root; steps++) { expect(steps).toBeLessThanOrEqual(n); x = parent[x]; }
  }
}

describe('minimumArborescence', () => {
  test('takes the cheapest parents when they form no cycle', () => {
    const edges = [
      { from: 0, to: 1, weight: 5 },
      { from: 0, to: 2, weight: 1 },
      { from: 2, to: 1, weight: 1 },
      { from: 1, to: 3, weight: 2 },
      { from: 2, to: 3, weight: 3 },
    ];
    const a = minimumArborescence(4, 0, edges);
    expect(Array.from(a.parent)).toEqual([-1, 2, 0, 1]);
    expect(a.weight).toBe(4);
  });

  test('breaks a cycle where entering it is cheapest', () => {
    // 1 ⇄ 2 is the cheapest pair of incoming edges; the root reaches 1 at 10 and 2 at 12.
    // Entering at 1 replaces 2→1 (cost 1): 10 − 1 = 9; entering at 2 replaces 1→2 (2): 10.
    const edges = [
      { from: 0, to: 1, weight: 10 },
      { from: 0, to: 2, weight: 12 },
      { from: 1, to: 2, weight: 2 },
      { from: 2, to: 1, weight: 1 },
    ];
    const a = minimumArborescence(3, 0, edges);
    expect(Array.from(a.parent)).toEqual([-1, 0, 1]);
    expect(a.weight).toBe(12);
  });

  test('contracts nested cycles (a cycle through a contracted cycle)', () => {
    // First round: 1⇄2 cycle. After contracting, {1,2} and 3 form a second cycle.
    const edges = [
      { from: 0, to: 1, weight: 50 },
      { from: 0, to: 3, weight: 40 },
      { from: 1, to: 2, weight: 1 },
      { from: 2, to: 1, weight: 1 },
      { from: 2, to: 3, weight: 2 },
      { from: 3, to: 1, weight: 3 },
    ];
    const a = minimumArborescence(4, 0, edges);
    expect(a.weight).toBe(bruteForce(4, 0, edges));
    expect(a.weight).toBe(44); // 0→3 (40), 3→1 (3), 1→2 (1)
    checkArborescence(4, 0, edges, a.parent, a.unreachable);
  });

  test('a virtual root gives several roots: models nearer than τ to nothing', () => {
    // Nodes 1..4 are two pairs; the virtual root 0 reaches all at τ = 5.
    const edges: WeightedEdge[] = [
      { from: 1, to: 2, weight: 1 },
      { from: 2, to: 1, weight: 1.5 },
      { from: 3, to: 4, weight: 2 },
      { from: 1, to: 3, weight: 9 },
      ...[1, 2, 3, 4].map((v) => ({ from: 0, to: v, weight: 5 })),
    ];
    const a = minimumArborescence(5, 0, edges);
    expect(Array.from(a.parent)).toEqual([-1, 0, 1, 0, 3]);
  });

  test('reports nodes the root cannot reach and ignores self-loops and edges into the root', () => {
    const edges = [
      { from: 0, to: 1, weight: 1 },
      { from: 1, to: 1, weight: -5 },
      { from: 1, to: 0, weight: -5 },
      { from: 2, to: 3, weight: 1 },
      { from: 3, to: 2, weight: 1 },
    ];
    const a = minimumArborescence(4, 0, edges);
    expect(Array.from(a.parent)).toEqual([-1, 0, -1, -1]);
    expect(a.unreachable).toEqual([2, 3]);
    expect(a.weight).toBe(1);
  });

  test('rejects non-finite weights', () => {
    expect(() => minimumArborescence(2, 0, [{ from: 0, to: 1, weight: Infinity }])).toThrow(RangeError);
  });

  test('matches brute force on random small graphs (cycles, ties, negative weights)', () => {
    const rng = createRng(42);
    for (let trial = 0; trial < 400; trial++) {
      const n = 2 + rng.int(5);
      const root = rng.int(n);
      const edges: WeightedEdge[] = [];
      for (let u = 0; u < n; u++) {
        for (let v = 0; v < n; v++) {
          if (u !== v && rng.next() < 0.6) edges.push({ from: u, to: v, weight: rng.int(7) - 1 + (rng.next() < 0.3 ? 0.5 : 0) });
        }
      }
      const a = minimumArborescence(n, root, edges);
      checkArborescence(n, root, edges, a.parent, a.unreachable);
      const expected = bruteForce(n, root, edges);
      expect(a.weight).toBeCloseTo(expected, 9);
      let sum = 0;
      for (let v = 0; v < n; v++) if (a.parentEdge[v] >= 0) sum += edges[a.parentEdge[v]].weight;
      expect(sum).toBeCloseTo(a.weight, 9);
    }
  });
});
