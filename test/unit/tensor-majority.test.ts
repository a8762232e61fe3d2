/**
 * Tensor majorities (lib/detect/tensor-majority.ts): the sign test's tail against exact
 * binomial sums (BigInt), the vote count, each condition of a move, and the option end to end
 * on simulated families in which one large tensor, trained towards one task by two siblings,
 * outweighs twenty small ones in the summed distance.
 */
import { ALPHA, signTestTail, tensorMajorityMoves, tensorVotes } from '../../lib/detect/tensor-majority';
import { NEAR_TWIN } from '../../lib/detect/near-twins';
import { detect } from '../../lib/detect';
import { createRng, type Mulberry32Rng } from '../../lib/graph/rng';
import { buildScan, gaussian, type SynthModel } from '../helpers/synthetic-scan';

/** Σ_{j ≥ k} C(n, j) / 2ⁿ, exactly in integers, rounded once. */
function exactTail(n: number, k: number): number {
  let c = 1n;
  let sum = 0n;
  for (let j = 0; j <= n; j++) {
    if (j >= k) sum += c;
    c = (c * BigInt(n - j)) / BigInt(j + 1);
  }
  return Number(sum) / 2 ** n;
}

describe('signTestTail', () => {
  it('equals the exact binomial tail, for small and large n and every kind of k', () => {
    const rng = createRng(7);
    const cases: Array<[number, number]> = [[1, 1], [4, 4], [6, 6], [21, 17], [144, 119], [0, 0], [5, 0], [5, 6], [997, 500]];
    for (let i = 0; i < 40; i++) {
      const n = 1 + Math.floor(rng.next() * 900);
      cases.push([n, Math.floor(rng.next() * (n + 1))]);
    }
    for (const [n, k] of cases) {
      const want = exactTail(n, k);
      const got = signTestTail(n, k);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-10 * want + 1e-300);
    }
  });
});

/** Per-tensor squared distances of points (one row of coordinates per tensor per model). */
function perTensorOf(points: number[][][]): Float64Array[] {
  const n = points.length;
  return points[0].map((_, t) => {
    const d = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        let s = 0;
        for (let e = 0; e < points[a][t].length; e++) s += (points[a][t][e] - points[b][t][e]) ** 2;
        d[a * n + b] = s;
      }
    }
    return d;
  });
}

const summed = (perTensor: Float64Array[]): Float64Array => {
  const out = new Float64Array(perTensor[0].length);
  for (const t of perTensor) t.forEach((x, i) => (out[i] += x));
  return out;
};

describe('tensorVotes', () => {
  it('counts the tensors on which q is nearer and farther than p, ties left out', () => {
    // Three models, five tensors: q = 2 nearer model 0 on two tensors, farther on one, tied on two.
    const n = 3;
    const t = (d01: number, d02: number) => Float64Array.from([0, d01, d02, d01, 0, 1, d02, 1, 0]);
    const perTensor = [t(1, 0.5), t(1, 0.2), t(1, 3), t(2, 2), t(0, 0)];
    expect(tensorVotes(perTensor, n, 0, 1, 2)).toEqual({ nearer: 2, farther: 1 });
    expect(tensorVotes(perTensor, n, 0, 2, 1)).toEqual({ nearer: 1, farther: 2 });
  });
});

/**
 * Root 0; children 1 and 2 trained on one task (a shared shift of the large tensor); child 3
 * and its child 4. `small` tensors of 40 values and one large tensor of 2,000.
 */
function sameTaskFamily(rng: Mulberry32Rng, small: number): number[][][] {
  const draw = (len: number, s: number) => Array.from({ length: len }, () => s * gaussian(rng));
  const add = (a: number[], b: number[]) => a.map((x, i) => x + b[i]);
  const root = [...Array.from({ length: small }, () => draw(40, 1)), draw(2000, 1)];
  const shared = draw(2000, 0.3);
  const child = (parent: number[][], sameTask: boolean) =>
    parent.map((t, i) => (i < small ? add(t, draw(40, 0.1)) : sameTask ? add(add(t, shared), draw(2000, 0.05)) : add(t, draw(2000, 0.3))));
  const c1 = child(root, true);
  const c2 = child(root, true);
  const c3 = child(root, false);
  return [root, c1, c2, c3, child(c3, false)];
}

describe('tensorMajorityMoves', () => {
  it('moves a model that its many small tensors put nearer the root than the same-task sibling it hangs under', () => {
    const pts = sameTaskFamily(createRng(3), 20);
    const perTensor = perTensorOf(pts);
    const d2 = summed(perTensor);
    // Summed, child 2 is nearer its same-task sibling than its parent...
    expect(d2[2 * 5 + 1]).toBeLessThan(d2[2 * 5 + 0] / 3);
    // ...so a tree hangs it there; tensor by tensor the root is nearer on the 20 small ones.
    const start = Int32Array.from([-1, 0, 1, 0, 3]);
    expect(tensorVotes(perTensor, 5, 2, 1, 0)).toEqual({ nearer: 20, farther: 1 });
    expect(Array.from(tensorMajorityMoves(d2, 5, start, perTensor)!)).toEqual([-1, 0, 0, 0, 3]);
    // Nothing to move in the right tree.
    expect(tensorMajorityMoves(d2, 5, Int32Array.from([-1, 0, 0, 0, 3]), perTensor)).toBeNull();
  });

  it('cannot reach the level with few tensors: four votes are four coin tosses at most', () => {
    const pts = sameTaskFamily(createRng(4), 3);
    const perTensor = perTensorOf(pts);
    expect(perTensor.length).toBe(4);
    expect(2 ** -4).toBeGreaterThan(ALPHA / 4);
    expect(tensorMajorityMoves(summed(perTensor), 5, Int32Array.from([-1, 0, 1, 0, 3]), perTensor)).toBeNull();
  });

  it('does not weigh a near twin of the parent, a model in the subtree, or a move that adds tensor changes', () => {
    const pts = sameTaskFamily(createRng(5), 20);
    const perTensor = perTensorOf(pts);
    const d2 = summed(perTensor);
    const start = Int32Array.from([-1, 0, 1, 0, 3]);
    // Parent 1 made a near twin of the root relative to child 2: the move is not weighed.
    const twin = Float64Array.from(d2);
    twin[0 * 5 + 1] = twin[1 * 5 + 0] = 0.99 * NEAR_TWIN * d2[2 * 5 + 0];
    expect(tensorMajorityMoves(twin, 5, start, perTensor)).toBeNull();
    // The true root 0 hung under child 2 (rooted at 1): every small tensor puts 0 nearer 2 than
    // 1, but 0 is in 2's subtree, so hanging 2 on 0 (a cycle) is never weighed.
    const above = Int32Array.from([2, -1, 1, 0, 3]);
    expect(tensorVotes(perTensor, 5, 2, 1, 0).nearer).toBe(20);
    expect(tensorMajorityMoves(d2, 5, above, perTensor)).toBeNull();
    // A tensor-change matrix under which hanging 2 on 0 adds changes: refused.
    const changes = new Float64Array(25).fill(1);
    for (let a = 0; a < 5; a++) changes[a * 5 + a] = 0;
    changes[1 * 5 + 2] = changes[2 * 5 + 1] = 0;
    expect(tensorMajorityMoves(d2, 5, start, perTensor, changes)).toBeNull();
  });

  it('takes the most significant move first and weighs the family again', () => {
    // Both same-task siblings stacked under child 3: each moves back to the root.
    const pts = sameTaskFamily(createRng(6), 20);
    const perTensor = perTensorOf(pts);
    const moved = tensorMajorityMoves(summed(perTensor), 5, Int32Array.from([-1, 3, 1, 0, 3]), perTensor);
    expect(Array.from(moved!)).toEqual([-1, 0, 0, 0, 3]);
  });
});

describe("tensorMajority 'move' end to end", () => {
  /** Models with the tensors of sameTaskFamily, as a scan; two families per scan. */
  function scanOf(seed: number) {
    const rng = createRng(seed);
    const models: SynthModel[] = [];
    const truth: Array<[string, string]> = [];
    for (const f of [0, 1]) {
      const pts = sameTaskFamily(rng, 20);
      const id = (i: number) => `f${f}-m${i}`;
      pts.forEach((p, i) => models.push({ id: id(i), tensors: Object.fromEntries(p.map((t, k) => [`t${k}`, t])) }));
      truth.push([id(0), id(1)], [id(0), id(2)], [id(0), id(3)], [id(3), id(4)]);
    }
    return { scan: buildScan(models, { seed }), truth };
  }
  const undirected = (edges: Array<{ parent: string; child: string }>) => new Set(edges.map((e) => [e.parent, e.child].sort().join('~')));

  it("finds every pair where 'ignore' links the same-task siblings to each other", () => {
    for (const seed of [11, 12, 13]) {
      const { scan, truth } = scanOf(seed);
      const want = undirected(truth.map(([parent, child]) => ({ parent, child })));
      const moved = undirected(detect(scan, { tensorMajority: 'move' }).edges);
      const ignored = undirected(detect(scan, { tensorMajority: 'ignore' }).edges);
      expect(moved).toEqual(want);
      expect([...ignored].some((e) => e === 'f0-m1~f0-m2' || e === 'f1-m1~f1-m2')).toBe(true);
    }
  });
});
