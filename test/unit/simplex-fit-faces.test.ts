/**
 * fitSimplex solves each face's KKT system in one reused buffer; the reference here builds the
 * system as nested arrays and solves it with the plain `solve`, face by face. Same operations
 * in the same order, so the fits must be identical to the bit, on fresh random inputs: points
 * in a few dimensions (so some targets lie in a hull and some faces are singular), every
 * candidate count from 2 to 8 and every face size limit.
 */
import { fitSimplex, simplexResidual, solve, type SimplexFit } from '../../lib/detect/typing/simplex-fit';

function referenceFit(toTarget: number[], among: number[][], maxMembers: number, minWeight: number): SimplexFit | null {
  const k = toTarget.length;
  const unit = toTarget.reduce((a, b) => a + b, 0) / k;
  if (!(unit > 0) || !Number.isFinite(unit)) return null;
  const t = toTarget.map((v) => v / unit);
  const g = among.map((r) => r.map((v) => v / unit));
  const K = (i: number, j: number): number => 0.5 * (t[i] + t[j] - g[i][j]);
  let best: SimplexFit | null = null;
  for (let mask = 1; mask < 1 << k; mask++) {
    const members: number[] = [];
    for (let i = 0; i < k; i++) if (mask & (1 << i)) members.push(i);
    if (members.length > maxMembers) continue;
    let weights: number[];
    let residual: number;
    if (members.length === 1) {
      weights = [1];
      residual = t[members[0]];
    } else {
      const A = members.map((i) => [...members.map((j) => K(i, j)), 1]);
      A.push([...members.map(() => 1), 0]);
      const x = solve(A, [...members.map(() => 0), 1]);
      if (!x) continue;
      weights = x.slice(0, members.length);
      if (weights.some((w) => !(w > minWeight))) continue;
      residual = simplexResidual(t, g, members, weights);
    }
    if (!best || residual < best.residual) best = { members, weights, residual: Math.max(0, residual) };
  }
  if (best) best.residual *= unit;
  return best;
}

describe('fitSimplex against the nested-array reference', () => {
  const seed = Number(process.env.NP_TEST_SEED ?? (Date.now() ^ (process.pid << 6)) >>> 0); // NP_TEST_SEED=N repeats a run
  let s = seed || 1;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  test.each([2, 3, 5, 7, 8])(`%i candidates (seed ${seed})`, (k) => {
    for (let trial = 0; trial < 12; trial++) {
      const dim = 1 + (trial % 5);
      const pts = Array.from({ length: k + 1 }, () => Array.from({ length: dim }, () => u() * 2 - 1));
      // Every third trial the target is a convex combination of two candidates: a merge.
      if (trial % 3 === 0) pts[0] = pts[1].map((v, i) => 0.3 * v + 0.7 * pts[2 % (k + 1) || 1][i]);
      const d2 = (a: number[], b: number[]) => a.reduce((acc, v, i) => acc + (v - b[i]) ** 2, 0);
      const toTarget = pts.slice(1).map((p) => d2(pts[0], p));
      const among = pts.slice(1).map((p) => pts.slice(1).map((q) => d2(p, q)));
      for (const maxMembers of [1, 2, 3, 4]) {
        for (const minWeight of [0, 0.05]) {
          expect(fitSimplex(toTarget, among, maxMembers, minWeight)).toEqual(referenceFit(toTarget, among, maxMembers, minWeight));
        }
      }
    }
  });
});
