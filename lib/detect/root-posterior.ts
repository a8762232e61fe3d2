/**
 * Rooting undirected family trees: which model of each family is the ancestor of the others.
 * The tree says nothing about it (squared distances are symmetric); two kinds of evidence do:
 *
 * - prior, 'attachment': fine-tunes are made one at a time from some existing model of the
 *   family, so the root is where the tree branches most. Under uniform attachment (every
 *   existing model equally likely to be fine-tuned next) the probability that r is the root is
 *   proportional to the number of orders in which the tree can grow from r, n!/Π_v |T_v^r|
 *   (|T_v^r| the size of v's subtree when rooted at r; Shah & Zaman's rumour centrality). It
 *   favours a base model with many fine-tunes over one of them, mildly (a factor 3 in a chain
 *   of four between an end and the second model), and a chain's direction is left to the
 *   evidence. 'uniform' makes every model equally likely.
 * - evidence: signals that tend to grow (or shrink) from parent to child. Each signal k votes
 *   on every tree edge; a root r under which A_k(r) edges agree has likelihood ∝ q_k^A_k(r),
 *   q_k = (1 − ε_k)/ε_k, ε_k the signal's error rate on this scan's edges (Laplace-smoothed).
 *   ε_k is estimated with the roots (EM: roots → error rates → roots, until the roots stop
 *   changing), pooled over every family that has the signal, so a signal that mostly runs
 *   against the tree gets a negative weight and one that is noise gets none. 'score' uses the
 *   direction score alone; 'kurtosis-votes' the score and the per-tensor kurtosis votes;
 *   'tensor-votes' uses, per tensor, the fake-init distance and the
 *   kurtosis (whose direction differs between vision nets and LLMs), and the
 *   direction score, whose sign is known (its error rate is capped at 1/2). The EM
 *   starts from the prior's roots and from the direction score's, and keeps the fixed point of
 *   higher joint likelihood.
 *
 * The posterior also gives each edge's direction confidence: the posterior mass of the roots on
 * the parent's side (docs/confidence.md).
 */
import type { ScanTensor } from '../scan/types';
import type { TreeEdge } from './additive-fit';
import { tensorKurtosis } from './scores';
import { isNormGain } from './direction-signals';

import type { DirectionEvidence, RootPrior } from './options';
export type { DirectionEvidence, RootPrior };

/** A per-model quantity expected to move monotonically from parent to child. */
export interface DirectionSignal {
  name: string;
  /** Per model (indexed like the trees' nodes); NaN where the model has no value. */
  values: ArrayLike<number>;
  /**
   * A known error rate: the signal votes with the fixed weight log((1−ε)/ε) instead of one
   * estimated from the scan, and also under `directionEvidence: 'score'`. For signals whose
   * direction is known by construction (step counters only grow along fine-tuning).
   */
  errorRate?: number;
  /** Pairs (node indices, either order) on which the signal casts no vote. */
  abstains?: (u: number, v: number) => boolean;
  /** Pairs (either order) on which the signal's vote counts reversed (tiny-step.ts). */
  reverses?: (u: number, v: number) => boolean;
}

/** One undirected tree over global node indices. */
export interface FamilyTree {
  nodes: number[];
  edges: TreeEdge[];
}

export interface RootedFamilies {
  /** Per tree: its root (a global node index). */
  roots: number[];
  /** Parent pointers over all nodes the trees cover (-1 at roots and elsewhere). */
  parent: Int32Array;
  /** Per node with a parent: posterior probability that the root is on the parent's side. */
  direction: Float64Array;
  /** The signals' final weights log((1−ε)/ε), in the order given. */
  weights: number[];
  /** The signals' final scan-wide error rates ε, in the order given. */
  rates: number[];
  /**
   * Per tree: each signal's error rate from the other trees' votes alone, under the roots
   * chosen (heldOut). A tree alone in the scan gets the rates of no votes, ½, unless a
   * signal's rate is known. Counted on first call: only `confidenceRates: 'held-out'` asks.
   */
  heldOutRates: () => number[][];
  /** EM rounds run from the start kept (1 = its first rooting already stood). */
  rounds: number;
}

/**
 * Per tensor with ≥ 2 models: its fake-init distance Σ(θ − r)² and its kurtosis. Only
 * comparisons within one tensor are ever made, so no normalisation is needed.
 *
 * With `fakeInitAbstain` (a ratio R), a tensor's fake-init vote on a pair abstains when the
 * change of its fake-init distance exceeds R times the pair's squared distance ‖a − b‖². Why:
 * for b = a + δ the change is 2⟨a − r, δ⟩ + ‖δ‖². Accumulated training makes it grow through
 * the ‖δ‖² term (an update nearly orthogonal to the weights it starts from); when the linear
 * term is many times larger, the update points along or against the weights themselves, as a
 * few steps at a tiny learning rate do, and the sign of the change says which way the new
 * task's gradient leans, not which model came first (docs/detect.md measures both).
 */
export function tensorSignals(tensors: ScanTensor[], models: number[], fakeInitAbstain: number | null = null, tinyGains?: (u: number, v: number) => boolean): DirectionSignal[] {
  // With `tinyGains` (tiny-step.ts): a norm gain's vote on a pair of tiny relative step counts
  // reversed instead of abstaining, since gains drift back towards their init along a few
  // tiny steps.
  const index = new Map(models.map((m, i) => [m, i]));
  const out: DirectionSignal[] = [];
  for (const t of tensors) {
    if (t.models.length < 2) continue;
    const fi = new Float64Array(models.length).fill(NaN);
    const ku = new Float64Array(models.length).fill(NaN);
    const slotOf = new Int32Array(models.length).fill(-1);
    t.models.forEach((m, slot) => {
      const i = index.get(m);
      if (i === undefined) return;
      slotOf[i] = slot;
      fi[i] = t.fakeInitSq[slot];
      ku[i] = tensorKurtosis(t, slot) ?? NaN;
    });
    const g = t.gram;
    const abstains =
      fakeInitAbstain === null
        ? undefined
        : (u: number, v: number): boolean => {
            const a = slotOf[u];
            const b = slotOf[v];
            if (a < 0 || b < 0) return false;
            const d2 = Math.max(0, g[a][a] + g[b][b] - 2 * g[a][b]);
            return Math.abs(fi[v] - fi[u]) > fakeInitAbstain * d2;
          };
    if (tinyGains !== undefined && isNormGain(t)) out.push({ name: `${t.name}:fake-init`, values: fi, reverses: tinyGains, abstains: (u, v) => !tinyGains(u, v) && (abstains?.(u, v) ?? false) });
    else out.push({ name: `${t.name}:fake-init`, values: fi, ...(abstains ? { abstains } : {}) });
    if (Array.from(ku).some((v) => !Number.isNaN(v))) out.push({ name: `${t.name}:kurtosis`, values: ku });
  }
  return out;
}

/** A tree in BFS order from its first node: order, parent (global → global), children. */
interface Traversal {
  order: number[];
  up: Map<number, number>;
  size: Map<number, number>;
}

function traverse(tree: FamilyTree): Traversal {
  const adj = new Map<number, number[]>(tree.nodes.map((v) => [v, []]));
  for (const e of tree.edges) {
    adj.get(e.a)!.push(e.b);
    adj.get(e.b)!.push(e.a);
  }
  const start = tree.nodes[0];
  const order = [start];
  const up = new Map<number, number>([[start, -1]]);
  for (let i = 0; i < order.length; i++) {
    for (const v of adj.get(order[i])!) {
      if (!up.has(v)) {
        up.set(v, order[i]);
        order.push(v);
      }
    }
  }
  const size = new Map<number, number>(order.map((v) => [v, 1]));
  for (let i = order.length - 1; i > 0; i--) size.set(up.get(order[i])!, size.get(up.get(order[i])!)! + size.get(order[i])!);
  return { order, up, size };
}

/** Rerooting: a value per root from its value at the start and a change per edge crossed. */
function reroot(t: Traversal, atStart: number, step: (from: number, to: number) => number): Map<number, number> {
  const out = new Map<number, number>([[t.order[0], atStart]]);
  for (const v of t.order.slice(1)) {
    const p = t.up.get(v)!;
    out.set(v, out.get(p)! + step(p, v));
  }
  return out;
}

/** log n!/Π|T_v^r| up to a constant: moving the root from p to its child c changes only
 * the sizes of p (n → n − s_c) and c (s_c → n). */
function attachmentLogPrior(t: Traversal): Map<number, number> {
  const n = t.order.length;
  let atStart = 0;
  for (const v of t.order) atStart -= Math.log(t.size.get(v)!);
  return reroot(t, atStart, (p, c) => {
    const s = t.size.get(c)!;
    return Math.log(s) - Math.log(n - s);
  });
}

type Votes = Pick<DirectionSignal, 'values' | 'abstains' | 'reverses'>;

/** +1 when the signal rises from u to v, −1 when it falls (each the other way on a pair it
 * reverses), 0 when equal, unknown or abstained. */
function vote(s: Votes, u: number, v: number): number {
  const a = s.values[u];
  const b = s.values[v];
  if (Number.isNaN(a) || Number.isNaN(b) || a === b || s.abstains?.(u, v)) return 0;
  const up = b > a ? 1 : -1;
  return s.reverses?.(u, v) ? -up : up;
}

/** Edges agreeing with the signal under each root. */
function agreement(t: Traversal, values: Votes): Map<number, number> {
  let atStart = 0;
  for (const v of t.order.slice(1)) atStart += vote(values, t.up.get(v)!, v) > 0 ? 1 : 0;
  // Crossing edge p–c flips it: it was p→c, it becomes c→p.
  return reroot(t, atStart, (p, c) => (vote(values, c, p) > 0 ? 1 : 0) - (vote(values, p, c) > 0 ? 1 : 0));
}

/** Non-tied votes of a signal on a tree's edges (the same under every root). */
function voteTotal(t: Traversal, values: Votes): number {
  let total = 0;
  for (const v of t.order.slice(1)) if (vote(values, t.up.get(v)!, v) !== 0) total++;
  return total;
}

/** Votes of a signal on the edges of trees rooted as given: how many, and how many wrong. */
function voteCounts(traversals: Traversal[], roots: number[], values: Votes, rootedUp: Map<number, number>[]): { wrong: number; total: number } {
  let wrong = 0;
  let total = 0;
  traversals.forEach((t, i) => {
    const up = rootedUp[i];
    for (const v of t.order) {
      if (v === roots[i]) continue;
      const s = vote(values, up.get(v)!, v);
      if (s === 0) continue;
      total++;
      if (s < 0) wrong++;
    }
  });
  return { wrong, total };
}

/** Laplace-smoothed error rate: the maximum of its Beta(2, 2) posterior. */
const errorRate = (c: { wrong: number; total: number }) => (c.wrong + 1) / (c.total + 2);

function rootedParents(t: Traversal, root: number): Map<number, number> {
  const up = new Map<number, number>([[root, -1]]);
  // Walking the BFS tree from the new root: neighbours are the old parent and old children.
  const children = new Map<number, number[]>(t.order.map((v) => [v, []]));
  for (const v of t.order.slice(1)) children.get(t.up.get(v)!)!.push(v);
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i];
    const nb = [...children.get(u)!];
    if (t.up.get(u)! >= 0) nb.push(t.up.get(u)!);
    for (const v of nb) {
      if (!up.has(v)) {
        up.set(v, u);
        queue.push(v);
      }
    }
  }
  return up;
}

/** Parent pointers (global → global, −1 at r) of a tree rooted at r. */
export function rootedAt(tree: FamilyTree, r: number): Map<number, number> {
  return rootedParents(traverse(tree), r);
}

const logOdds = (eps: number) => Math.log((1 - eps) / eps);

/** log Γ(x) for x > 0 (Lanczos, g = 7; relative error below 1e-13). */
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const logBeta = (a: number, b: number) => logGamma(a) + logGamma(b) - logGamma(a + b);

/**
 * How the votes of one family weigh a root, per signal k: `agree[k]` of its `total[k]`
 * non-tied votes agree with the root, ε_k its scan-wide error rate.
 *
 * - pooled (null): Σ agree·log((1−ε)/ε) (up to a constant): every family votes with the
 *   scan-wide rates.
 * - { strength: α }: each family has error rates of its own, drawn from Beta(α(1−ε), αε)
 *   around the scan-wide ones and integrated out (beta-binomial).
 * - { flip: π }: the training regime of a family may reverse a whole kind of evidence (weight
 *   decay shrinks what other regimes grow): per kind — fake-init distances (the direction
 *   score with them) and kurtosis — the family's votes count as they are or all reversed,
 *   reversed with prior probability π, and both are summed over. One bit per kind and family,
 *   not a rate per signal, so noise signals cannot each find a root of their own. With
 *   `noise: ν` a third reading: the kind carries no direction in this family (each vote a
 *   coin toss), prior ν, so a kind that is informative elsewhere but split in this family
 *   (kurtosis under a tiny fine-tune) stops pulling its root to wherever the split falls.
 * Signals of known error rate (step counters, fixed signals) always vote as they are, and a
 * family in which one of them is informative takes no flips.
 *
 * `temper` (τ in (0, 1]) multiplies the log-likelihood of every scan-estimated vote: the
 * tensors of one model move together (a fine-tune that shrinks one matrix shrinks the
 * others), so their votes are not independent, and counted as if they were they outweigh the
 * prior and make the posterior surer than the evidence is (a composite likelihood tempered
 * by the votes' redundancy). Signals of known error rate are one vote per model: untempered.
 */
export type FamilyVoting = null | { strength: number } | { flip: number; noise?: number };

/** The kind of evidence a signal belongs to, for { flip } (null: never reversed). */
function evidenceKind(s: DirectionSignal): string | null {
  if (s.errorRate !== undefined) return null;
  if (s.name === 'score' || s.name.endsWith(':fake-init')) return 'fake-init';
  if (s.name.endsWith(':kurtosis')) return 'kurtosis';
  return null;
}

function familyLogLik(agree: number[], total: number[], rates: number[], used: DirectionSignal[], voting: FamilyVoting, temper: number): number {
  let out = 0;
  // A family whose models carry step counters that differ is ordered by them (a counter only
  // grows along fine-tuning): a reversed reading of its weight statistics would only let many
  // weak votes outweigh that one near-certain vote, so such a family votes as it is.
  if (voting !== null && 'flip' in voting && used.some((s, k) => s.errorRate !== undefined && total[k] > 0)) voting = null;
  const kinds = new Map<string, { keep: number; flip: number; noise: number }>();
  rates.forEach((eps, k) => {
    const fixed = used[k].errorRate !== undefined;
    // A signal of known error rate is one vote per model; the scan's signals are tempered.
    const w = logOdds(eps) * (fixed ? 1 : temper);
    if (voting === null || fixed) {
      out += agree[k] * w;
    } else if ('strength' in voting) {
      const a0 = voting.strength * (1 - eps);
      const b0 = voting.strength * eps;
      out += temper * (logBeta(agree[k] + a0, total[k] - agree[k] + b0) - logBeta(a0, b0) - total[k] * Math.log(eps));
    } else {
      const kind = evidenceKind(used[k]);
      if (kind === null) {
        out += agree[k] * w;
        return;
      }
      const acc = kinds.get(kind) ?? { keep: 0, flip: 0, noise: 0 };
      kinds.set(kind, acc);
      // Reversed, the disagreeing votes agree: (total − agree)·w against agree·w. All three
      // readings drop the same constant total·log ε: as coin tosses, total·log ½ − that.
      acc.keep += agree[k] * w;
      acc.flip += (total[k] - agree[k]) * w;
      acc.noise += temper * total[k] * (Math.log(0.5) - Math.log(eps));
    }
  });
  if (voting !== null && 'flip' in voting) {
    const nu = voting.noise ?? 0;
    for (const { keep, flip, noise } of kinds.values()) {
      const a = Math.log(1 - voting.flip - nu) + keep;
      const b = Math.log(voting.flip) + flip;
      const c = nu > 0 ? Math.log(nu) + noise : -Infinity;
      const m = Math.max(a, b, c);
      out += m + Math.log(Math.exp(a - m) + Math.exp(b - m) + Math.exp(c - m));
    }
  }
  return out;
}

/** The signals that vote: the tensors' (for 'tensor-votes'; signals of known error rate
 * always), then the direction score, last. */
export function usedSignals(primary: ArrayLike<number>, signals: DirectionSignal[], evidence: DirectionEvidence, scoreReverses?: (u: number, v: number) => boolean): DirectionSignal[] {
  const score: DirectionSignal = { name: 'score', values: primary, ...(scoreReverses ? { reverses: scoreReverses } : {}) };
  if (evidence === 'score') return [...signals.filter((s) => s.errorRate !== undefined), score];
  if (evidence === 'kurtosis-votes') return [...signals.filter((s) => s.errorRate !== undefined || s.name.endsWith(':kurtosis')), score];
  return [...signals, score];
}

/**
 * Roots every tree by its posterior (prior × evidence) and gives each edge its direction
 * confidence. `primary` (the direction score, lower = earlier) starts the EM and breaks ties.
 * `voting`: how a family's votes weigh its roots under the scan-wide error rates
 * (familyLogLik; null: as they are).
 */
export function rootFamilies(
  trees: FamilyTree[],
  nNodes: number,
  primary: ArrayLike<number>,
  signals: DirectionSignal[],
  prior: RootPrior,
  evidence: DirectionEvidence,
  voting: FamilyVoting = null,
  temper = 1,
  scoreReverses?: (u: number, v: number) => boolean,
): RootedFamilies {
  const trav = trees.map(traverse);
  const logPrior = trav.map((t) => (prior === 'attachment' ? attachmentLogPrior(t) : new Map(t.order.map((v) => [v, 0]))));
  const used = usedSignals(primary, signals, evidence, scoreReverses);
  const agreeUsed = used.map((s) => trav.map((t) => agreement(t, s)));
  const totals = used.map((s) => trav.map((t) => voteTotal(t, s)));
  const agreePrimary = trav.map((t) => agreement(t, { values: primary, reverses: scoreReverses }));
  // The score's sign is known (it grows with training), so its error rate is at most 1/2:
  // without that, reversing every chain and every signal would fit exactly as well.
  const bounded = used.map((s) => s === used[used.length - 1]);
  const rate = (c: { wrong: number; total: number }, k: number) =>
    used[k].errorRate ?? (bounded[k] ? Math.min(0.5, errorRate(c)) : errorRate(c));

  const posterior = (rates: number[]) =>
    trav.map((t, i) => {
      const post = new Map<number, number>();
      for (const v of t.order) {
        const agree = rates.map((_, k) => agreeUsed[k][i].get(v)!);
        const total = rates.map((_, k) => totals[k][i]);
        post.set(v, logPrior[i].get(v)! + familyLogLik(agree, total, rates, used, voting, temper));
      }
      return post;
    });
  const argmax = (post: Map<number, number>[]) =>
    post.map((p, i) => {
      let best = trav[i].order[0];
      for (const v of trav[i].order) {
        const d = p.get(v)! - p.get(best)!;
        if (d > 1e-9 || (Math.abs(d) <= 1e-9 && (primary[v] < primary[best] || (primary[v] === primary[best] && v < best)))) best = v;
      }
      return best;
    });

  // EM from two starts, keeping the fixed point of higher joint likelihood (prior × votes
  // × Beta(2,2) on each error rate, the last two tempered alike, since the rates are learnt
  // from those same votes; both steps raise it): the prior's roots, which suit
  // branching families, and the score's own best roots, which suit chains (where the prior's
  // middle would make every signal look like noise and stay there).
  const scoreRoots = trav.map((t, i) => {
    let b = t.order[0];
    for (const v of t.order) {
      const d = agreePrimary[i].get(v)! - agreePrimary[i].get(b)!;
      if (d > 0 || (d === 0 && primary[v] < primary[b])) b = v;
    }
    return b;
  });
  let best: { roots: number[]; rates: number[]; post: Map<number, number>[]; rounds: number; logLik: number } | null = null;
  for (const start of [argmax(posterior([])), scoreRoots]) {
    let roots = start;
    let rates: number[] = [];
    let post: Map<number, number>[] = [];
    let counts: { wrong: number; total: number }[] = [];
    let rounds = 0;
    // A root assignment repeats within a few rounds; the bound guards against 2-cycles.
    while (rounds < 50) {
      rounds++;
      const ups = trav.map((t, i) => rootedParents(t, roots[i]));
      counts = used.map((s) => voteCounts(trav, roots, s, ups));
      rates = counts.map((c, k) => rate(c, k));
      post = posterior(rates);
      const next = argmax(post);
      if (next.every((r, i) => r === roots[i])) break;
      roots = next;
    }
    let logLik = 0;
    if (voting === null) {
      logLik = roots.reduce((a, r, i) => a + logPrior[i].get(r)!, 0);
      for (const [k, c] of counts.entries()) {
        const e = rate(c, k);
        const t = used[k].errorRate !== undefined ? 1 : temper;
        logLik += t * ((c.total - c.wrong + 1) * Math.log(1 - e) + (c.wrong + 1) * Math.log(e));
      }
    } else {
      // The posterior at the chosen roots holds prior × votes; add the votes' constant
      // (total·log ε) and the Beta(2,2) on each rate.
      logLik = roots.reduce((a, r, i) => a + post[i].get(r)!, 0);
      for (const [k, c] of counts.entries()) {
        const e = rate(c, k);
        logLik += (used[k].errorRate !== undefined ? 1 : temper) * (c.total * Math.log(e) + Math.log(e) + Math.log(1 - e));
      }
    }
    if (best === null || logLik > best.logLik + 1e-9) best = { roots, rates, post, rounds, logLik };
  }
  const { roots, rates, post, rounds } = best!;

  const { parent, direction } = directionMasses(trav, roots, post, nNodes);
  let held: number[][] | undefined;
  const heldOutRates = () => (held ??= heldOut(trav, roots, trav.map((t, i) => rootedParents(t, roots[i])), used, rate));
  return { roots, parent, direction, weights: rates.map(logOdds), rates, heldOutRates, rounds };
}

/**
 * Per tree, each signal's error rate estimated from every other tree's votes under the chosen
 * roots: cross-fitting. The EM fits the rates to the roots it chooses, so a family's own votes
 * confirm its root through the rates they set; alone in a scan, a family's error rates are
 * its own agreement with its root, and its posterior is as sure as its votes are many. Held
 * out, a family's confidence rests on what the other families say its signals are worth.
 */
function heldOut(
  trav: Traversal[],
  roots: number[],
  ups: Map<number, number>[],
  used: DirectionSignal[],
  rate: (c: { wrong: number; total: number }, k: number) => number,
): number[][] {
  const perTree = used.map((s) => trav.map((t, i) => voteCounts([t], [roots[i]], s, [ups[i]])));
  const pooled = perTree.map((c) => c.reduce((a, x) => ({ wrong: a.wrong + x.wrong, total: a.total + x.total }), { wrong: 0, total: 0 }));
  return trav.map((_, i) => used.map((_, k) => rate({ wrong: pooled[k].wrong - perTree[k][i].wrong, total: pooled[k].total - perTree[k][i].total }, k)));
}

/** Parent pointers under the given roots and each edge's posterior direction confidence. */
function directionMasses(trav: Traversal[], roots: number[], post: Map<number, number>[], nNodes: number): { parent: Int32Array; direction: Float64Array } {
  const parent = new Int32Array(nNodes).fill(-1);
  const direction = new Float64Array(nNodes).fill(NaN);
  trav.forEach((t, i) => {
    const up = rootedParents(t, roots[i]);
    for (const [v, p] of up) parent[v] = p;
    // Posterior mass of the roots inside each subtree (under the chosen rooting).
    const top = Math.max(...post[i].values());
    const order = [...up.keys()];
    const mass = new Map<number, number>(order.map((v) => [v, Math.exp(post[i].get(v)! - top)]));
    for (let k = order.length - 1; k > 0; k--) {
      const v = order[k];
      mass.set(up.get(v)!, mass.get(up.get(v)!)! + mass.get(v)!);
    }
    const total = mass.get(roots[i])!;
    for (const v of order) if (v !== roots[i]) direction[v] = 1 - mass.get(v)! / total;
  });
  return { parent, direction };
}

/**
 * Direction confidences of trees already rooted (e.g. refitted after rooting): the posterior
 * mass of the roots on each parent's side, from each tree's root log posteriors
 * (rootLogPosteriors, under the error rates and family voting that rooted them).
 */
export function directionOfRooted(trees: FamilyTree[], roots: number[], nNodes: number, post: Map<number, number>[]): Float64Array {
  return directionMasses(trees.map(traverse), roots, post, nNodes).direction;
}

/**
 * Each root's log posterior on each of several candidate trees over the same models (global
 * indices), under fixed error rates: the attachment prior log n!/Π|T_v^r| (whose dropped
 * constant is the same for every tree over n models) plus the votes' log-likelihood relative
 * to coin tosses. familyLogLik leaves out the term total·log ε, equal under every root of one
 * tree but not across trees whose edges draw different numbers of votes (abstentions, ties);
 * here it is added back against total·log ½, so a vote counts for a tree only by how much
 * better than a coin it fits (near-twins.ts compares trees with it).
 */
export function rootLogPosteriors(
  trees: FamilyTree[],
  primary: ArrayLike<number>,
  signals: DirectionSignal[],
  rates: number[],
  prior: RootPrior,
  evidence: DirectionEvidence,
  voting: FamilyVoting = null,
  temper = 1,
  scoreReverses?: (u: number, v: number) => boolean,
): Map<number, number>[] {
  const used = usedSignals(primary, signals, evidence, scoreReverses);
  // The coin-toss constant is the same under every root of one tree, so directionOfRooted's
  // masses are the same with it as without.
  return trees.map(traverse).map((t) => {
    const logPrior = prior === 'attachment' ? attachmentLogPrior(t) : new Map(t.order.map((v) => [v, 0]));
    const agree = used.map((s) => agreement(t, s));
    const total = used.map((s) => voteTotal(t, s));
    let constant = 0;
    rates.forEach((eps, k) => (constant += (used[k].errorRate !== undefined ? 1 : temper) * total[k] * (Math.log(eps) - Math.log(0.5))));
    return new Map(t.order.map((v) => [v, logPrior.get(v)! + constant + familyLogLik(agree.map((a) => a.get(v)!), total, rates, used, voting, temper)]));
  });
}
