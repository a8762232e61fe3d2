/**
 * Seeded pseudo-random numbers for detection and the learned detector (k-means++ seeding,
 * restarts, gap statistic references, data splits, weight init). Not the zoo's generator
 * (lib/zoo/rng.ts, sfc32), whose streams define the zoo's bytes. A fixed, tiny generator keeps detection bitwise reproducible for a
 * given seed on every platform, which Math.random cannot.
 */

export interface Mulberry32Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: 32-bit state, passes the statistical tests that matter for seeding choices. */
export function createRng(seed: number): Mulberry32Rng {
  let state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.min(n - 1, Math.floor(next() * n)) };
}

/** Picks an index with probability proportional to its weight; uniform when all are zero. */
export function weightedPick(rng: Mulberry32Rng, weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  if (!(total > 0) || !Number.isFinite(total)) return rng.int(weights.length);
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}
