import { correlationSpread, driftCorrelationCost, incrementCorrelations, refitDriftCorrelations } from '../../lib/detect/drift-correlations';
import { refitSharedDrift, sharedDriftCost } from '../../lib/detect/shared-drift';
import { createRng } from '../../lib/graph/rng';

/** Points of a random rooted tree in R^dim; some increments long, one of zero length. */
function randomFamily(n: number, dim: number, seed: number): { parent: Int32Array; x: Float64Array[] } {
  const rng = createRng(seed);
  const rand = () => rng.next();
  const parent = new Int32Array(n).fill(-1);
  const x = [Float64Array.from({ length: dim }, () => rand() - 0.5)];
  for (let v = 1; v < n; v++) {
    parent[v] = Math.floor(rand() * v);
    const scale = v === n - 1 ? 0 : v % 3 === 0 ? 5 : 1;
    x.push(Float64Array.from(x[parent[v]], (a) => a + scale * (rand() - 0.5)));
  }
  return { parent, x };
}

function squared(x: Float64Array[]): Float64Array {
  const n = x.length;
  const d2 = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) d2[a * n + b] = x[a].reduce((s, v, k) => s + (v - x[b][k]) ** 2, 0);
  return d2;
}

describe('increment correlations from squared distances', () => {
  test.each([5, 9, 17])('match the correlations of the increments themselves (n = %i, dim 37)', (n) => {
    const { parent, x } = randomFamily(n, 37, n);
    const d2 = squared(x);
    const nodes = [...parent.keys()].filter((v) => parent[v] >= 0);
    const inc = nodes.map((v) => Float64Array.from(x[v], (a, k) => a - x[parent[v]][k]));
    const want: number[] = [];
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const dot = inc[i].reduce((s, a, k) => s + a * inc[j][k], 0);
        const norm = Math.sqrt(inc[i].reduce((s, a) => s + a * a, 0) * inc[j].reduce((s, a) => s + a * a, 0));
        want.push(norm > 0 ? dot / norm : 0);
      }
    }
    const got = incrementCorrelations(d2, n, parent);
    expect(got.length).toBe(want.length);
    want.forEach((w, k) => expect(got[k]).toBeCloseTo(w, 9));
    const mean = want.reduce((s, c) => s + c, 0) / want.length;
    expect(correlationSpread(d2, n, parent)).toBeCloseTo(want.reduce((s, c) => s + (c - mean) ** 2, 0), 9);
    // The criterion is the log-product of the shared-drift cost and the spread.
    const c = driftCorrelationCost(d2, n, parent).cost;
    expect(c).toBeCloseTo(Math.log(sharedDriftCost(d2, n, parent).cost) + Math.log(correlationSpread(d2, n, parent) + 1e-6), 9);
  });

  test('a family of one increment has no spread', () => {
    const d2 = Float64Array.from([0, 4, 4, 0]);
    expect(correlationSpread(d2, 2, Int32Array.from([-1, 0]))).toBe(0);
  });
});

describe('refitting with the correlation spread', () => {
  // Squared distances (scaled to a maximum of 1000) of a measured family: an AdamW warm-up
  // root (3), a fine-tune that moved little from it (4), two further fine-tunes (0, 2) and a
  // grandchild (1, under 0). Shared drift alone hangs 0 under the near twin 4, because the
  // long increments 1 and 2 dominate its squared residuals.
  const d2 = Float64Array.from(
    [
      [0, 367.678, 544.202, 316.447, 342.059],
      [367.678, 0, 1000, 783.087, 772.37],
      [544.202, 1000, 0, 234.032, 264.907],
      [316.447, 783.087, 234.032, 0, 42.532],
      [342.059, 772.37, 264.907, 42.532, 0],
    ].flat(),
  );
  const truth = [3, 0, 3, -1, 3];
  const start = Int32Array.from([4, 0, 3, -1, 3]);

  test('shared drift alone keeps the wrong tree; with the spread the true one is found', () => {
    expect(Array.from(refitSharedDrift(d2, 5, start).parent)).toEqual([4, 0, 3, -1, 3]);
    const fit = refitDriftCorrelations(d2, 5, start);
    expect(Array.from(fit.parent)).toEqual(truth);
    expect(fit.cost).toBeLessThan(driftCorrelationCost(d2, 5, start).cost);
  });

  test('an exact shared-drift metric keeps its tree (every two increments correlate alike)', () => {
    const deep = [-1, 0, 0, 1, 1, 2, 5, 0];
    const len = [0, 3, 1, 1, 2, 4, 1, 6];
    const rho = 0.15;
    const n = deep.length;
    const h = deep.map((_, v) => {
      let s = 0;
      for (let x = v; deep[x] >= 0; x = deep[x]) s += len[x];
      return s;
    });
    // path sums of squared lengths
    const anc = (v: number) => {
      const out = [v];
      for (let x = v; deep[x] >= 0; x = deep[x]) out.push(deep[x]);
      return out;
    };
    const m = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        const A = anc(a);
        const B = anc(b);
        const lca = A.find((x) => B.includes(x))!;
        const S = [...A.slice(0, A.indexOf(lca)), ...B.slice(0, B.indexOf(lca))].reduce((s, x) => s + len[x] ** 2, 0);
        m[a * n + b] = (1 - rho) * S + rho * (h[a] - h[b]) ** 2;
      }
    }
    const fit = refitDriftCorrelations(m, n, Int32Array.from([-1, 0, 0, 0, 0, 0, 0, 0]));
    expect(Array.from(fit.parent)).toEqual(deep);
  });
});
