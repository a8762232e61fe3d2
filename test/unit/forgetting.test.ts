/**
 * Forgetting (lib/detect/forgetting.ts): the nested-drift fit against float64 references
 * written out here (increments as explicit vectors; a grid over the (κ, ρ) box), the moves it
 * may make, and the option end to end on simulated families whose fine-tunes start from a
 * shrunk copy of their parent, as under weight decay.
 */
import { fitCorrelations, nestedDriftCost, nestedSpread, refitForgetting, supportedMove } from '../../lib/detect/forgetting';
import { NEAR_TWIN } from '../../lib/detect/near-twins';
import { detect } from '../../lib/detect';
import { createRng, type Mulberry32Rng } from '../../lib/graph/rng';
import { gaussian, simulateZoo } from '../helpers/synthetic-scan';
import { SYNTHETIC } from '../../scripts/synthetic-sets';

/** A random rooted tree over n nodes (node 0 the root; each node's parent an earlier node). */
function randomTree(n: number, rng: Mulberry32Rng): Int32Array {
  const parent = new Int32Array(n);
  parent[0] = -1;
  for (let v = 1; v < n; v++) parent[v] = Math.floor(rng.next() * v);
  return parent;
}

function isAncestor(parent: Int32Array, a: number, v: number): boolean {
  for (let x = parent[v]; x >= 0; x = parent[x]) if (x === a) return true;
  return false;
}

/** Cholesky factor of a symmetric matrix, or null where it is not positive definite. */
function cholesky(S: number[][]): number[][] | null {
  const n = S.length;
  const L = S.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = S[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      if (i === j) {
        if (s <= 1e-12) return null;
        L[i][i] = Math.sqrt(s);
      } else L[i][j] = s / L[j][j];
    }
  }
  return L;
}

/** Squared distances of the points. */
function d2Of(points: number[][]): Float64Array {
  const n = points.length;
  const d2 = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) d2[a * n + b] = points[a].reduce((s, x, k) => s + (x - points[b][k]) ** 2, 0);
  return d2;
}

/**
 * Models as explicit vectors: each increment has length l_v, and two increments correlate by κ
 * when one lies above the other on a root path, by ρ otherwise (increments as rows of a
 * Cholesky factor, so their inner products are exact).
 */
function modelPoints(parent: Int32Array, lengths: number[], kappa: number, rho: number): number[][] | null {
  const n = parent.length;
  const inc = [...Array(n).keys()].filter((v) => parent[v] >= 0);
  const S = inc.map((u) => inc.map((v) => (u === v ? 1 : isAncestor(parent, u, v) || isAncestor(parent, v, u) ? kappa : rho)));
  const L = cholesky(S);
  if (L === null) return null;
  const dim = inc.length;
  const pos: number[][] = Array.from({ length: n }, () => new Array<number>(dim).fill(0));
  const order = [0];
  for (let i = 0; i < order.length; i++) for (let v = 0; v < n; v++) if (parent[v] === order[i]) order.push(v);
  for (const v of order.slice(1)) {
    const row = L[inc.indexOf(v)];
    pos[v] = pos[parent[v]].map((x, k) => x + lengths[v] * row[k]);
  }
  return pos;
}

describe('nestedDriftCost', () => {
  it('recovers κ and ρ of increments built with them, on random trees (float64 vectors)', () => {
    const rng = createRng(11);
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const n = 4 + Math.floor(rng.next() * 6);
      const parent = randomTree(n, rng);
      const nested = [...Array(n).keys()].some((v) => parent[v] > 0);
      const siblings = [...Array(n).keys()].some((u) => [...Array(n).keys()].some((v) => u < v && parent[u] >= 0 && parent[v] >= 0 && !isAncestor(parent, u, v) && !isAncestor(parent, v, u)));
      if (!nested || !siblings) continue;
      const kappa = -0.5 + 0.8 * rng.next();
      const rho = 0.3 * rng.next();
      const lengths = Array.from({ length: n }, () => 0.5 + 2 * rng.next());
      const pts = modelPoints(parent, lengths, kappa, rho);
      if (pts === null) continue;
      const d2 = d2Of(pts);
      const fit = nestedDriftCost(d2, n, parent);
      expect(fit.kappa).toBeCloseTo(kappa, 6);
      expect(fit.rho).toBeCloseTo(rho, 6);
      expect(nestedSpread(d2, n, parent)).toBeLessThan(1e-12);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('with κ = ρ the increments fit one correlation: its κ is ρ', () => {
    const parent = Int32Array.from([-1, 0, 0, 1, 3, 0]);
    const pts = modelPoints(parent, [0, 1, 1.5, 0.7, 1.2, 2], 0.15, 0.15)!;
    const fit = nestedDriftCost(d2Of(pts), 6, parent);
    expect(fit.kappa).toBeCloseTo(0.15, 8);
    expect(fit.rho).toBeCloseTo(0.15, 8);
  });
});

describe('fitCorrelations', () => {
  it('is the least-squares minimum over the box ρ ∈ [0, 1), κ ∈ (−1, 1) (a fine grid never beats it)', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 30; trial++) {
      const m = 6 + Math.floor(rng.next() * 10);
      const b1 = Float64Array.from({ length: m }, () => gaussian(rng));
      const b2 = Float64Array.from({ length: m }, () => gaussian(rng));
      // Targets from parameters inside and outside the box, with noise.
      const k0 = -2 + 4 * rng.next();
      const r0 = -1 + 3 * rng.next();
      const a = Float64Array.from(b1, (x, i) => k0 * x + r0 * b2[i] + 0.1 * gaussian(rng));
      const cost = (k: number, r: number) => a.reduce((s, y, i) => s + (y - k * b1[i] - r * b2[i]) ** 2, 0);
      const fit = fitCorrelations(a, b1, b2);
      expect(fit.kappa).toBeGreaterThanOrEqual(-1);
      expect(fit.kappa).toBeLessThanOrEqual(1);
      expect(fit.rho).toBeGreaterThanOrEqual(0);
      expect(fit.rho).toBeLessThan(1);
      expect(fit.cost).toBeCloseTo(cost(fit.kappa, fit.rho), 9);
      let grid = Infinity;
      for (let k = -1; k <= 1 + 1e-9; k += 0.01) for (let r = 0; r < 1; r += 0.01) grid = Math.min(grid, cost(k, r));
      // The box is open at κ = ±1 and ρ = 1 by 1e-9, the grid closed: a relative 1e-7 margin.
      expect(fit.cost).toBeLessThanOrEqual(grid * (1 + 1e-7));
    }
  });
});

describe('nestedSpread', () => {
  it('matches a reference from explicit increment vectors on random points and trees', () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = 3 + Math.floor(rng.next() * 7);
      const pts = Array.from({ length: n }, () => Array.from({ length: 5 }, () => gaussian(rng)));
      const parent = randomTree(n, rng);
      const inc = [...Array(n).keys()].filter((v) => parent[v] >= 0);
      const delta = inc.map((v) => pts[v].map((x, k) => x - pts[parent[v]][k]));
      const groups: number[][] = [[], []];
      for (let i = 0; i < inc.length; i++) {
        for (let j = i + 1; j < inc.length; j++) {
          const dot = delta[i].reduce((s, x, k) => s + x * delta[j][k], 0);
          const c = dot / Math.sqrt(delta[i].reduce((s, x) => s + x * x, 0) * delta[j].reduce((s, x) => s + x * x, 0));
          groups[isAncestor(parent, inc[i], inc[j]) || isAncestor(parent, inc[j], inc[i]) ? 1 : 0].push(c);
        }
      }
      let want = 0;
      for (const g of groups) {
        if (g.length === 0) continue;
        const mean = g.reduce((s, x) => s + x, 0) / g.length;
        want += g.reduce((s, x) => s + (x - mean) ** 2, 0);
      }
      expect(nestedSpread(d2Of(pts), n, parent)).toBeCloseTo(want, 9);
    }
  });
});

describe('supportedMove', () => {
  // A root 0, children 1 and 2, and 3 which hangs under 1 in `parent`.
  const pts = [
    [0, 0, 0],
    [2, 0, 0],
    [0, 2, 0],
    [2.2, 0, 1.5],
  ];
  const d2 = d2Of(pts);
  const parent = Int32Array.from([-1, 0, 0, 1]);

  it('takes a move onto the model nearest outside the subtree, not a near twin of the old parent', () => {
    expect(supportedMove(d2, 4, parent, 3, 0, 1)).toBe(true);
  });

  it('refuses a new parent that is not the nearest model', () => {
    const other = Int32Array.from([-1, 0, 0, 2]);
    expect(supportedMove(d2, 4, other, 3, 0, 2)).toBe(false);
  });

  it('refuses a new parent that is a near twin of the old one (the distances cannot choose)', () => {
    // 1 moves to within the near-twin bound of 0, relative to d²(3, 1).
    const twin = pts.map((p) => [...p]);
    twin[1] = [0.3, 0, 0];
    twin[3] = [0.4, 0, 1.5];
    const t2 = d2Of(twin);
    expect(t2[0 * 4 + 1]).toBeLessThan(NEAR_TWIN * t2[3 * 4 + 1]);
    expect(supportedMove(t2, 4, parent, 3, 0, 1)).toBe(false);
  });

  it('with per-tensor distances, refuses a new parent that most tensors put farther; a tie does not refuse', () => {
    // Three tensors: overall 3 is nearest 1 (as above), but on two of three tensors 0 is nearer.
    const tensor = (near1: boolean) => {
      const t = new Float64Array(16);
      t[3 * 4 + 1] = t[1 * 4 + 3] = near1 ? 0.1 : 1.1;
      t[3 * 4 + 0] = t[0 * 4 + 3] = near1 ? 5 : 1;
      return t;
    };
    expect(supportedMove(d2, 4, parent, 3, 0, 1, [tensor(true), tensor(false), tensor(false)])).toBe(false);
    expect(supportedMove(d2, 4, parent, 3, 0, 1, [tensor(true), tensor(true), tensor(false)])).toBe(true);
    expect(supportedMove(d2, 4, parent, 3, 0, 1, [tensor(true), tensor(false)])).toBe(true);
    expect(supportedMove(d2, 4, parent, 3, 0, 1, [])).toBe(true);
  });

  it('refuses moves from or to the root position', () => {
    expect(supportedMove(d2, 4, parent, 3, -1, 1)).toBe(false);
    expect(supportedMove(d2, 4, parent, 3, 0, -1)).toBe(false);
  });
});

describe('refitForgetting', () => {
  it('moves a forgetful grandchild back under its parent (built with κ = −0.35, ρ = 0.12)', () => {
    // Root 0; children 1, 2, 3; 4 a grandchild under 1 whose long increment undoes part of 1's.
    const truth = Int32Array.from([-1, 0, 0, 0, 1]);
    const pts = modelPoints(truth, [0, 4.7, 3, 2.9, 6.2], -0.35, 0.12)!;
    const d2 = d2Of(pts);
    // A star around the root: the grandchild nearer its grandparent than the path sum says.
    expect(d2[0 * 5 + 4]).toBeLessThan(d2[0 * 5 + 1] + d2[1 * 5 + 4]);
    const star = Int32Array.from([-1, 0, 0, 0, 0]);
    expect(Array.from(refitForgetting(d2, 5, star)!)).toEqual(Array.from(truth));
  });

  it('leaves families of fewer than three models alone', () => {
    expect(refitForgetting(new Float64Array([0, 1, 1, 0]), 2, Int32Array.from([-1, 0]))).toBeNull();
  });
});

describe('forgetting end to end on simulated families', () => {
  // Every fine-tune starts from 0.7 × its parent (weight decay) and moves about as far as the
  // parent's own norm: a parent, three children and a grandchild per family, three families.
  const spec = { families: 3, depth: 2, branching: [3, 1], monotone: 'none' as const, fineTuneScale: 0.7, decay: 1, siblingCorrelation: 0.12, shrink: 0.3 };
  const right = (seed: number, forgetting: 'refit' | 'ignore') => {
    const zoo = simulateZoo({ ...spec, seed });
    const truth = new Map(zoo.lineage.edges.map((e) => [e.child, e.parent]));
    const r = detect(zoo.scan, { forgetting });
    return { right: r.edges.filter((e) => truth.get(e.child) === e.parent).length, total: truth.size, r };
  };

  it("'refit' finds every edge where one increment correlation gets most of them wrong", () => {
    for (const seed of [1, 2]) {
      const refit = right(seed, 'refit');
      const ignore = right(seed, 'ignore');
      expect(refit.right).toBe(refit.total);
      expect(ignore.right).toBeLessThan(0.75 * ignore.total);
    }
  });

  it('is the default', () => {
    const zoo = simulateZoo({ ...spec, seed: 1 });
    expect(detect(zoo.scan).edges).toEqual(detect(zoo.scan, { forgetting: 'refit' }).edges);
  });

  it('changes nothing on the simulated sets without forgetting', () => {
    for (const s of SYNTHETIC) {
      const zoo = simulateZoo({ ...s.spec, seed: 1 });
      const key = (o: { forgetting: 'refit' | 'ignore' }) => detect(zoo.scan, o).edges.map((e) => `${e.parent}>${e.child}`);
      expect(key({ forgetting: 'refit' })).toEqual(key({ forgetting: 'ignore' }));
    }
  });
});
