/**
 * The nearest point to a model in the convex hull of a few others: min ‖c − Σ wᵢpᵢ‖² over
 * w ≥ 0, Σw = 1. With Σw = 1 the residual depends only on squared distances
 * (‖c − Σwᵢpᵢ‖² = wᵀKw with Kᵢⱼ = ½(d²(c,pᵢ) + d²(c,pⱼ) − d²(pᵢ,pⱼ))), so a merge is fitted on
 * the scan's Gram without reading a tensor, and a constant shared by all models (the common
 * base) cancels.
 *
 * Exact by enumeration: the optimum lies in the relative interior of some face S of the
 * simplex, where it is the minimiser over the affine hull of S; every face whose affine
 * minimiser is feasible gives an attainable value, so the least of them is the optimum. k ≤ 8 candidates keeps this at most 255 tiny solves.
 */

export interface SimplexFit {
  /** Indices into the candidates, ascending. */
  members: number[];
  /** Weights of `members`, each > 0, summing to 1. */
  weights: number[];
  /** ‖c − Σ wᵢpᵢ‖². */
  residual: number;
}

/** Solves A x = b (n ≤ 8) by Gaussian elimination with partial pivoting; null when singular. */
export function solve(A: number[][], b: number[], rel = 1e-12): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  const scale = Math.max(1e-300, ...A.map((r) => Math.max(...r.map(Math.abs))));
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r;
    if (Math.abs(M[piv][col]) <= rel * scale) return null;
    [M[col], M[piv]] = [M[piv], M[col]];
    for (let r = col + 1; r < n; r++) {
      const f = M[r][col] / M[col][col];
      for (let k = col; k <= n; k++) M[r][k] -= f * M[col][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/**
 * Best simplex combination of the candidates for one target.
 * @param toTarget d²(c, pᵢ) per candidate
 * @param among d²(pᵢ, pⱼ), k×k
 * @param maxMembers largest face tried (a merge of at most this many parents)
 * @param minWeight faces whose minimiser gives some member less than this are not accepted
 */
export function fitSimplex(toTarget: number[], among: number[][], maxMembers = 4, minWeight = 0): SimplexFit | null {
  const k = toTarget.length;
  // Unit scale first, so the pivot tolerance means the same for kilobyte MLPs and 7B models.
  const unit = toTarget.reduce((a, b) => a + b, 0) / k;
  if (!(unit > 0) || !Number.isFinite(unit)) return null;
  const t = toTarget.map((v) => v / unit);
  const g = among.map((r) => r.map((v) => v / unit));
  const K = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) K[i * k + j] = 0.5 * (t[i] + t[j] - g[i][j]);
  const face = new FaceSolver(Math.min(k, maxMembers));
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
      const x = face.solve(K, k, members);
      if (!x) continue;
      weights = x;
      if (weights.some((w) => !(w > minWeight))) continue;
      residual = simplexResidual(t, g, members, weights);
    }
    if (!best || residual < best.residual) best = { members, weights, residual: Math.max(0, residual) };
  }
  if (best) best.residual *= unit;
  return best;
}

/**
 * The KKT system of one face, [K 1; 1ᵀ 0][w; μ] = [0; 1], solved as `solve` solves it (same
 * pivots, same operations in the same order, so the same numbers) in one reused buffer: a
 * fit tries up to 162 faces, and building nested arrays for each was most of its time.
 * Regular while the candidates are affinely independent, even when the target lies exactly in
 * their hull (K itself is then singular).
 */
class FaceSolver {
  private readonly M: Float64Array;
  private readonly x: Float64Array;
  private readonly w: number;
  constructor(maxMembers: number) {
    this.w = maxMembers + 2;
    this.M = new Float64Array((maxMembers + 1) * this.w);
    this.x = new Float64Array(maxMembers + 1);
  }

  /** The weights of the face's members, or null when the system is singular. */
  solve(K: Float64Array, k: number, members: number[], rel = 1e-12): number[] | null {
    const m = members.length;
    const n = m + 1;
    const W = this.w;
    const M = this.M;
    let scale = 1e-300;
    for (let a = 0; a < m; a++) {
      let rowMax = 1;
      for (let b = 0; b < m; b++) {
        const v = K[members[a] * k + members[b]];
        M[a * W + b] = v;
        if (Math.abs(v) > rowMax) rowMax = Math.abs(v);
      }
      M[a * W + m] = 1;
      M[a * W + n] = 0;
      if (rowMax > scale) scale = rowMax;
    }
    for (let b = 0; b < m; b++) M[m * W + b] = 1;
    M[m * W + m] = 0;
    M[m * W + n] = 1;
    if (1 > scale) scale = 1;
    for (let col = 0; col < n; col++) {
      let piv = col;
      for (let r = col + 1; r < n; r++) if (Math.abs(M[r * W + col]) > Math.abs(M[piv * W + col])) piv = r;
      if (Math.abs(M[piv * W + col]) <= rel * scale) return null;
      if (piv !== col) {
        for (let c = 0; c <= n; c++) {
          const tmp = M[col * W + c];
          M[col * W + c] = M[piv * W + c];
          M[piv * W + c] = tmp;
        }
      }
      for (let r = col + 1; r < n; r++) {
        const f = M[r * W + col] / M[col * W + col];
        for (let c = col; c <= n; c++) M[r * W + c] -= f * M[col * W + c];
      }
    }
    const x = this.x;
    for (let r = n - 1; r >= 0; r--) {
      let s = M[r * W + n];
      for (let c = r + 1; c < n; c++) s -= M[r * W + c] * x[c];
      x[r] = s / M[r * W + r];
    }
    return Array.from(x.subarray(0, m));
  }
}

/** The same residual for given weights, straight from the definition (for checks). */
export function simplexResidual(toTarget: number[], among: number[][], members: number[], weights: number[]): number {
  let r = 0;
  members.forEach((i, a) => (r += weights[a] * toTarget[i]));
  members.forEach((i, a) => members.forEach((j, b) => (r -= 0.5 * weights[a] * weights[b] * among[i][j])));
  return r;
}
