/**
 * Near twins (lib/detect/near-twins.ts): the readings the distances cannot tell from a fitted
 * tree, the root posteriors that compare them (checked against a float64 reference written out
 * here), the direction confidences over all readings (against brute-force path enumeration),
 * and the option end to end on a simulated family whose hub a near twin takes.
 */
import { chooseAmongTwins, NEAR_TWIN, twinAlternatives } from '../../lib/detect/near-twins';
import { rootLogPosteriors, type DirectionSignal, type FamilyTree } from '../../lib/detect/root-posterior';
import type { TreeEdge } from '../../lib/detect/additive-fit';
import { detect } from '../../lib/detect';
import { createRng } from '../../lib/graph/rng';
import { simulateZoo } from '../helpers/synthetic-scan';
import { SYNTHETIC } from '../../scripts/synthetic-sets';

const keyOf = (edges: TreeEdge[]) =>
  edges
    .map((e) => (e.a < e.b ? `${e.a}-${e.b}` : `${e.b}-${e.a}`))
    .sort()
    .join(',');

/** Squared distances of points on a line plus orthogonal offsets: d2 from coordinates. */
function d2Of(points: number[][]): Float64Array {
  const n = points.length;
  const d2 = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) d2[a * n + b] = points[a].reduce((s, x, k) => s + (x - points[b][k]) ** 2, 0);
  return d2;
}

/** Parent pointers of a tree rooted at r, by a plain DFS. */
function parentsFrom(nodes: number[], edges: TreeEdge[], r: number): Map<number, number> {
  const up = new Map<number, number>([[r, -1]]);
  const stack = [r];
  while (stack.length) {
    const u = stack.pop()!;
    for (const e of edges) {
      const v = e.a === u ? e.b : e.b === u ? e.a : -1;
      if (v >= 0 && !up.has(v)) {
        up.set(v, u);
        stack.push(v);
      }
    }
  }
  expect(up.size).toBe(nodes.length);
  return up;
}

describe('twinAlternatives', () => {
  // w = 0 and its near twin u = 1 (d² 0.01); x = 2 hangs under u though it is 1 from w; y = 3
  // hangs under w, 1 from u; z = 4 hangs under u but is itself near (d² 0.02 from w).
  const points = [
    [0, 0, 0, 0, 0],
    [0.1, 0, 0, 0, 0],
    [0.1, 1, 0, 0, 0],
    [0, 0, 1, 0, 0],
    [0.1, 0, 0, 0.1, 0],
  ];
  const d2 = d2Of(points);
  const tree: TreeEdge[] = [
    { a: 0, b: 1 },
    { a: 1, b: 2 },
    { a: 0, b: 3 },
    { a: 1, b: 4 },
  ];

  it('moves the far neighbours of either twin onto the other, never the near ones', () => {
    const alts = twinAlternatives(tree, 5, d2).map(keyOf);
    // u's far neighbour x onto w (z stays: d²(w, u) = 0.01 > 0.16·d²(w, z) = 0.0032).
    expect(alts).toContain(keyOf([{ a: 0, b: 1 }, { a: 0, b: 2 }, { a: 0, b: 3 }, { a: 1, b: 4 }]));
    // w's far neighbour y onto u.
    expect(alts).toContain(keyOf([{ a: 0, b: 1 }, { a: 1, b: 2 }, { a: 1, b: 3 }, { a: 1, b: 4 }]));
    expect(alts).not.toContain(keyOf(tree));
    expect(new Set(alts).size).toBe(alts.length);
    // Every reading is a spanning tree over the same models.
    for (const a of twinAlternatives(tree, 5, d2)) parentsFrom([0, 1, 2, 3, 4], a, 0);
  });

  it('finds nothing where no edge is that short', () => {
    const spread = d2Of([
      [0, 0, 0],
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    expect(twinAlternatives([{ a: 0, b: 1 }, { a: 1, b: 2 }, { a: 0, b: 3 }], 4, spread)).toEqual([]);
  });

  it('stops exactly at the derived ratio', () => {
    // d²(w, u) = NEAR_TWIN·d²(w, x) moves x; a hair more does not.
    const at = (ratio: number) => {
      const d = new Float64Array(9);
      const set = (a: number, b: number, v: number) => ((d[a * 3 + b] = v), (d[b * 3 + a] = v));
      set(0, 1, ratio);
      set(0, 2, 1);
      set(1, 2, 1);
      return twinAlternatives([{ a: 0, b: 1 }, { a: 1, b: 2 }], 3, d).length;
    };
    expect(at(NEAR_TWIN)).toBe(1);
    expect(at(NEAR_TWIN * 1.001)).toBe(0);
  });
});

describe('rootLogPosteriors', () => {
  /** Float64 reference: −Σ log subtree sizes + Σ_k τ·Σ_votes (log(1−ε) or log ε, − log ½). */
  function reference(tree: FamilyTree, r: number, used: DirectionSignal[], rates: number[], temper: number): number {
    const up = parentsFrom(tree.nodes, tree.edges, r);
    const size = new Map<number, number>(tree.nodes.map((v) => [v, 1]));
    for (const v of tree.nodes) for (let x = up.get(v)!; x >= 0; x = up.get(x)!) size.set(x, size.get(x)! + 1);
    let lp = -tree.nodes.reduce((s, v) => s + Math.log(size.get(v)!), 0);
    used.forEach((s, k) => {
      for (const [v, p] of up) {
        if (p < 0) continue;
        const a = s.values[p];
        const b = s.values[v];
        if (Number.isNaN(a) || Number.isNaN(b) || a === b || s.abstains?.(p, v)) continue;
        lp += temper * ((b > a ? Math.log(1 - rates[k]) : Math.log(rates[k])) - Math.log(0.5));
      }
    });
    return lp;
  }

  it('matches the reference on every root of random trees, and compares trees fairly', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = createRng(seed);
      const n = 3 + rng.int(7);
      const nodes = Array.from({ length: n }, (_, i) => i + 2); // global indices need not start at 0
      const trees: FamilyTree[] = [0, 1, 2].map(() => ({ nodes, edges: nodes.slice(1).map((v, i) => ({ a: nodes[rng.int(i + 1)], b: v })) }));
      const values = () => Float64Array.from({ length: n + 2 }, () => (rng.next() < 0.1 ? NaN : rng.int(4)));
      const skip = new Set(Array.from({ length: 3 }, () => `${2 + rng.int(n)},${2 + rng.int(n)}`));
      const signals: DirectionSignal[] = [
        { name: 'a:fake-init', values: values(), abstains: (u, v) => skip.has(`${u},${v}`) || skip.has(`${v},${u}`) },
        { name: 'a:kurtosis', values: values() },
      ];
      const primary = values();
      const rates = [0.1 + 0.3 * rng.next(), 0.5 + 0.3 * rng.next(), 0.2];
      const temper = 0.5;
      const post = rootLogPosteriors(trees, primary, signals, rates, 'attachment', 'tensor-votes', null, temper);
      const used = [...signals, { name: 'score', values: primary }];
      trees.forEach((t, i) => {
        for (const r of nodes) expect(post[i].get(r)!).toBeCloseTo(reference(t, r, used, rates, temper), 9);
      });
    }
  });

  it('gives an abstaining signal no weight on any tree', () => {
    const nodes = [0, 1, 2, 3];
    const trees: FamilyTree[] = [
      { nodes, edges: [{ a: 0, b: 1 }, { a: 0, b: 2 }, { a: 0, b: 3 }] },
      { nodes, edges: [{ a: 0, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 3 }] },
    ];
    const primary = [0, 1, 2, 3];
    const mute: DirectionSignal = { name: 'x:fake-init', values: [3, 2, 1, 0], abstains: () => true };
    const without = rootLogPosteriors(trees, primary, [], [0.2], 'attachment', 'tensor-votes');
    const withMute = rootLogPosteriors(trees, primary, [mute], [0.01, 0.2], 'attachment', 'tensor-votes');
    trees.forEach((_, i) => nodes.forEach((r) => expect(withMute[i].get(r)!).toBeCloseTo(without[i].get(r)!, 12)));
  });
});

describe('chooseAmongTwins', () => {
  /** A random family with near twins: a few models barely moved from their parents. */
  function randomFamily(seed: number) {
    const rng = createRng(seed);
    const n = 4 + rng.int(5);
    const dim = 30;
    const parent = [-1];
    const x: number[][] = [Array.from({ length: dim }, () => rng.next())];
    for (let v = 1; v < n; v++) {
      parent.push(rng.int(v));
      const step = rng.next() < 0.4 ? 0.05 : 1;
      x.push(x[parent[v]].map((c) => c + step * (rng.next() - 0.5)));
    }
    const nodes = Array.from({ length: n }, (_, i) => 10 + i);
    const tree: FamilyTree = { nodes, edges: parent.slice(1).map((p, v) => ({ a: nodes[p], b: nodes[v + 1] })) };
    // Deterministic pseudo-random log posteriors per (reading, root).
    const lp = new Map<string, number>();
    const logPosteriors = (cands: FamilyTree[]) =>
      cands.map((c) => new Map(nodes.map((r) => [r, lp.get(`${keyOf(c.edges)}@${r}`) ?? (lp.set(`${keyOf(c.edges)}@${r}`, 4 * rng.next()), lp.get(`${keyOf(c.edges)}@${r}`)!)])));
    return { tree, nodes, d2: d2Of(x), logPosteriors, lp };
  }

  it('gives each edge the posterior probability, over every reading and root, that its parent is an ancestor', () => {
    let checked = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { tree, nodes, d2, logPosteriors, lp } = randomFamily(seed);
      for (const choose of [false, true]) {
        const c = chooseAmongTwins(tree, nodes[0], d2, logPosteriors, null, choose);
        if (c === null) {
          expect(twinAlternatives(tree.edges.map((e) => ({ a: e.a - 10, b: e.b - 10 })), nodes.length, d2)).toEqual([]);
          continue;
        }
        checked++;
        const readings = [tree.edges, ...twinAlternatives(tree.edges.map((e) => ({ a: e.a - 10, b: e.b - 10 })), nodes.length, d2).map((a) => a.map((e) => ({ a: e.a + 10, b: e.b + 10 })))];
        const weight = (edges: TreeEdge[], r: number) => Math.exp(lp.get(`${keyOf(edges)}@${r}`)!);
        let total = 0;
        for (const edges of readings) for (const r of nodes) total += weight(edges, r);
        if (!choose) {
          expect(c.root).toBe(nodes[0]);
          expect(keyOf(c.edges)).toBe(keyOf(tree.edges));
        } else {
          // The chosen (reading, root) has the largest posterior.
          const best = Math.max(...readings.flatMap((edges) => nodes.map((r) => weight(edges, r))));
          expect(weight(c.edges, c.root)).toBeCloseTo(best, 12);
        }
        expect(c.parent.get(c.root)).toBe(-1);
        for (const [v, p] of c.parent) {
          if (p < 0) continue;
          let mass = 0;
          for (const edges of readings) {
            for (const r of nodes) {
              const up = parentsFrom(nodes, edges, r);
              let anc = false;
              for (let y = up.get(v)!; y >= 0; y = up.get(y)!) if (y === p) anc = true;
              if (anc) mass += weight(edges, r);
            }
          }
          expect(c.direction.get(v)!).toBeCloseTo(mass / total, 10);
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe("nearTwins on a simulated family whose hub a near twin took", () => {
  // Seed 5 of the simulated set with correlated sibling drifts: f2.3 moved about a twelfth of
  // its siblings' squared distance from f2, its siblings project onto it, and the fitted tree
  // makes it the hub and root.
  const spec = SYNTHETIC.find((s) => s.name === 'synthetic correlated, spread')!.spec;
  const zoo = simulateZoo({ ...spec, seed: 5 });
  const run = (nearTwins: 'ignore' | 'doubt') => {
    const r = detect(zoo.scan, { nearTwins });
    const f = r.families.findIndex((m) => m.includes('f2'));
    return { r, family: r.familyDirections![f] };
  };

  it("'ignore' roots it at the twin and reports it sure; 'doubt' keeps every edge and reports it unsure", () => {
    const ignore = run('ignore');
    const doubt = run('doubt');
    expect(ignore.family.root).toBe('f2.3');
    expect(ignore.family.confidence!).toBeGreaterThan(0.95);
    expect(doubt.r.edges.map((e) => `${e.parent}>${e.child}`)).toEqual(ignore.r.edges.map((e) => `${e.parent}>${e.child}`));
    expect(doubt.family.root).toBe('f2.3');
    expect(doubt.family.confidence!).toBeLessThan(0.6);
  });

  it('is the default', () => {
    expect(detect(zoo.scan).familyDirections).toEqual(run('doubt').r.familyDirections);
  });
});
