/**
 * Tensor majorities: a model whose tensors, one by one, sit significantly nearer another
 * model than its fitted parent moves under that model.
 *
 * A fine-tune inherits every tensor from its parent, so tensor by tensor it starts at its
 * parent. The tree criteria read squared distances summed over tensors, in which the largest
 * tensors decide: an output head or an LM head that two relatives trained towards one task
 * or one corpus can outweigh every other tensor. Measured on the zoos: a tiny-llama child
 * (recipes) nearer a sibling (arithmetic) than its parent through lm_head alone (13.6 against
 * 34.9), while 17 of its other 20 tensors are nearer its parent; a tiny-unet child nearer its
 * sibling overall, its parent nearer on 119 of 144 tensors.
 *
 * So each tensor votes once: for a model v with fitted parent p and a model q outside v's
 * subtree, the tensors on which q is nearer v than p are counted against those on which it is
 * farther (ties, such as tensors both hold frozen, left out). Were q no nearer than p, each
 * vote would be a fair coin at best, and the one-sided sign test gives the chance of as many
 * votes for q. The move is taken when that chance, times the number of moves weighed in the
 * family (Bonferroni), is at most ALPHA = 0.05, the conventional level, not a fitted one;
 * the most significant move first, then the family is weighed again. A q that is a near twin
 * of p relative to v (near-twins.ts) is not weighed: between near twins the distances cannot
 * choose, tensor by tensor no more than summed, and a tiny fine-tune of p sits nearer p's
 * other fine-tunes on every tensor (the cnn-bn/tiny zoo: 10 of 10 tensors for a near twin of
 * the right parent). With few tensors the test cannot reach the level at all (six tensors
 * and four candidates: 4/64 > 0.05), which is right: an MLP's four tensors are four votes.
 *
 * Where it fails: models pulled together on every tensor (a child trained far on the same
 * task as its parent's grandchild) are nearer the wrong parent tensor by tensor too, and stay.
 */
import { inSubtree } from './shared-drift';
import { addsChanges } from './unchanged-tensors';
import { notNearTwins } from './near-twins';

/** 'move': take the significant moves; 'ignore': the summed distances alone decide. */
export const TENSOR_MAJORITY = ['move', 'ignore'] as const;
export type TensorMajority = (typeof TENSOR_MAJORITY)[number];

/** The family-wise level of the sign test (Bonferroni over the moves weighed). */
export const ALPHA = 0.05;

/** P(X ≥ k) for X ~ Binomial(n, ½), summed in log space (n up to thousands of tensors). */
export function signTestTail(n: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  // log C(n, k) for the first term, then the ratio C(n, j+1)/C(n, j) = (n − j)/(j + 1).
  let logTerm = 0;
  for (let i = 1; i <= k; i++) logTerm += Math.log(n - k + i) - Math.log(i);
  let sum = 0;
  for (let j = k; j <= n; j++) {
    sum += Math.exp(logTerm - n * Math.LN2);
    logTerm += Math.log(n - j) - Math.log(j + 1);
  }
  return Math.min(1, sum);
}

/** Tensors on which q is nearer v than p is, and on which it is farther (local indices). */
export function tensorVotes(perTensor: Float64Array[], n: number, v: number, p: number, q: number): { nearer: number; farther: number } {
  let nearer = 0;
  let farther = 0;
  for (const t of perTensor) {
    const a = t[v * n + q];
    const b = t[v * n + p];
    if (a < b) nearer++;
    else if (a > b) farther++;
  }
  return { nearer, farther };
}

/**
 * The significant moves of a rooted tree (local indices, −1 at the root; d2 the summed squared
 * distances, perTensor one matrix per tensor), taken one at a time, most significant first,
 * until none is left; null when there is none. The root never moves. With `changes`, no move
 * implies more tensor changes (unchanged-tensors.ts).
 */
export function tensorMajorityMoves(d2: Float64Array, n: number, start: Int32Array, perTensor: Float64Array[], changes: Float64Array | null = null, alpha = ALPHA): Int32Array | null {
  // No move can reach the level with fewer tensors than this (one candidate, every vote for it).
  if (n < 3 || 2 ** -perTensor.length > alpha) return null;
  let parent: Int32Array | null = null;
  let current = start;
  // A move needs a majority over the model it replaces, so v cannot return to a parent it
  // left; the bound guards against longer cycles through three or more candidates.
  for (let round = 0; round < n * n; round++) {
    let weighed = 0;
    let best: { v: number; q: number; p: number } | null = null;
    for (let v = 0; v < n; v++) {
      const p = current[v];
      if (p < 0) continue;
      for (let q = 0; q < n; q++) {
        if (q === v || q === p || inSubtree(current, v, q) || !notNearTwins(d2, n, v, p, q) || addsChanges(changes, n, current, v, q)) continue;
        weighed++;
        const { nearer, farther } = tensorVotes(perTensor, n, v, p, q);
        if (nearer <= farther) continue;
        const chance = signTestTail(nearer + farther, nearer);
        if (best === null || chance < best.p) best = { v, q, p: chance };
      }
    }
    if (best === null || best.p * weighed > alpha) break;
    parent = Int32Array.from(current);
    parent[best.v] = best.q;
    current = parent;
  }
  return parent;
}
