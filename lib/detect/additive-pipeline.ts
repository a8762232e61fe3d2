/**
 * The additive-tree method: families are the groups that the correlation gate and τ leave
 * linked; each family's undirected tree is the one whose path sums best explain its squared
 * distances (additive-fit.ts); each tree is rooted by the posterior of root-posterior.ts;
 * with the root known, the tree is refitted under shared drift (shared-drift.ts), which
 * accounts for the correlation of fine-tuning increments that the additive fit ignores
 * ('drift-correlations' scores that refit also by how evenly the increments correlate:
 * drift-correlations.ts); a fine-tune that forgot part of its parent's increment under
 * weight decay is then moved back under its parent where the distances support it
 * (forgetting.ts), and a model whose tensors, one vote each, significantly prefer another
 * parent is moved there (tensor-majority.ts).
 */
import { fitAdditiveTree, type TreeEdge } from './additive-fit';
import { thresholdComponents } from '../graph/components';
import { fillMissing } from '../graph/shortest-paths';
import { directionOfRooted, rootFamilies, rootLogPosteriors, usedSignals, type FamilyVoting, type DirectionEvidence, type DirectionSignal, type FamilyTree, type RootPrior } from './root-posterior';
import { MAX_REFIT_SIZE, refitSharedDrift } from './shared-drift';
import { repairByCounters } from './counter-repair';
import { MAX_CORRELATION_REFIT_SIZE, refitDriftCorrelations } from './drift-correlations';
import { chooseAmongTwins, type NearTwins } from './near-twins';
import { refitForgetting, type Forgetting } from './forgetting';
import { tensorMajorityMoves, type TensorMajority } from './tensor-majority';

import type { ConfidenceRates, TreeModel } from './options';
export type { TreeModel };

export interface AdditiveTreeRun {
  parent: Int32Array;
  /** Per node with a parent: the posterior direction confidence of its edge. */
  direction: Float64Array;
  /** Signal weights log((1−ε)/ε) by signal name. */
  weights: Record<string, number>;
  rounds: number;
  /** Per family (by its root's index): the fitted drift correlation ρ. */
  rho: Record<number, number>;
}

/**
 * @param link linking distances (Infinity = never linked) defining the families with τ
 * @param squaredOf a family's squared distances (row-major, local order), measured over the
 *   tensors all its members have (distances.ts squaredDistancesOver)
 */
export function additiveTreeMethod(
  link: number[][],
  squaredOf: (family: number[]) => Float64Array,
  tau: number,
  score: ArrayLike<number>,
  signals: DirectionSignal[],
  prior: RootPrior,
  evidence: DirectionEvidence,
  model: TreeModel = 'shared-drift',
  voting: FamilyVoting = null,
  temper = 1,
  scoreReverses?: (u: number, v: number) => boolean,
  changesOf?: (family: number[]) => Float64Array | null,
  nearTwins: NearTwins = 'ignore',
  forgetting: Forgetting = 'ignore',
  tensorDistancesOf?: (family: number[]) => Float64Array[],
  tensorMajority: TensorMajority = 'ignore',
  confidenceRates: ConfidenceRates = 'scan',
): AdditiveTreeRun {
  const n = link.length;
  const trees: FamilyTree[] = [];
  const locals: Float64Array[] = [];
  const changes: (Float64Array | null)[] = [];
  for (const family of thresholdComponents(link, tau)) {
    if (family.length < 2) continue;
    const local = fillMissing(squaredOf(family), family.length);
    const changed = family.length > 2 && changesOf ? changesOf(family) : null;
    const fit = fitAdditiveTree(local, family.length, changed);
    trees.push({ nodes: family, edges: fit.edges.map((e: TreeEdge) => ({ a: family[e.a], b: family[e.b] })) });
    locals.push(local);
    changes.push(changed);
  }
  const rooted = rootFamilies(trees, n, score, signals, prior, evidence, voting, temper, scoreReverses);
  const used = usedSignals(score, signals, evidence).map((s) => s.name);
  const weights = Object.fromEntries(used.map((name, k) => [name, Math.round(rooted.weights[k] * 1000) / 1000]));
  const parent = Int32Array.from(rooted.parent);
  const rho: Record<number, number> = {};
  const refitted: FamilyTree[] = trees.map((t, i) => {
    const m = t.nodes.length;
    if (model === 'additive' || m < 3 || m > MAX_REFIT_SIZE) return t;
    const index = new Map(t.nodes.map((v, j) => [v, j]));
    const start = Int32Array.from(t.nodes, (v) => (rooted.parent[v] >= 0 ? index.get(rooted.parent[v])! : -1));
    const fit = model === 'drift-correlations' && m <= MAX_CORRELATION_REFIT_SIZE ? refitDriftCorrelations(locals[i], m, start, changes[i]) : refitSharedDrift(locals[i], m, start, changes[i]);
    // Per-tensor distances: computed once per family, when the first step asks.
    let perTensorCache: Float64Array[] | undefined;
    const perTensor = tensorDistancesOf ? () => (perTensorCache ??= tensorDistancesOf(t.nodes)) : undefined;
    // A fine-tune that forgot part of its parent's increment (forgetting.ts), where the
    // distances support the move.
    const refit = (forgetting !== 'ignore' ? refitForgetting(locals[i], m, fit.parent, changes[i], forgetting === 'refit', perTensor) : null) ?? fit.parent;
    // A model that most of its tensors put significantly nearer another model than its parent
    // (tensor-majority.ts).
    const local = (tensorMajority === 'move' && perTensor ? tensorMajorityMoves(locals[i], m, refit, perTensor(), changes[i]) : null) ?? refit;
    t.nodes.forEach((v, j) => (parent[v] = local[j] >= 0 ? t.nodes[local[j]] : -1));
    rho[rooted.roots[i]] = Math.round(fit.rho * 1000) / 1000;
    return { nodes: t.nodes, edges: t.nodes.flatMap((v) => (parent[v] >= 0 ? [{ a: parent[v], b: v }] : [])) };
  });
  const roots = [...rooted.roots];
  let changed = false;
  // Each root's log posterior on family i's candidate trees, under the voting that rooted them
  // and the error rates its confidences are taken with: the scan's, or (held out) the other
  // families' alone (root-posterior.ts heldOut).
  const ratesOf = (i: number) => (confidenceRates === 'held-out' ? rooted.heldOutRates()[i] : rooted.rates);
  const posteriors = (i: number) => (candidates: FamilyTree[]) => rootLogPosteriors(candidates, score, signals, ratesOf(i), prior, evidence, voting, temper, scoreReverses);
  // Near twins (near-twins.ts): the fitted tree is weighed against the readings the distances
  // cannot tell from it; their direction confidences are over all of them.
  const twinDirection = new Map<number, number>();
  if (nearTwins !== 'ignore') {
    refitted.forEach((t, i) => {
      if (t.nodes.length < 3 || t.nodes.length > MAX_REFIT_SIZE) return;
      const choice = chooseAmongTwins(t, roots[i], locals[i], posteriors(i), changes[i], nearTwins === 'weigh');
      if (choice === null) return;
      for (const [v, q] of choice.direction) twinDirection.set(v, q);
      refitted[i] = { nodes: t.nodes, edges: choice.edges };
      roots[i] = choice.root;
      for (const [v, p] of choice.parent) parent[v] = p;
      changed = true;
    });
  }
  // Step counters rule out some trees (counter-repair.ts); a repaired family gets its new
  // tree, root and direction confidences.
  const counter = signals.find((s) => s.name === 'step-counter');
  if (counter) {
    refitted.forEach((t, i) => {
      if (!repairByCounters(t.nodes, parent, counter.values, locals[i])) return;
      changed = true;
      for (const v of t.nodes) twinDirection.delete(v);
      roots[i] = t.nodes.find((v) => parent[v] < 0)!;
      refitted[i] = { nodes: t.nodes, edges: t.nodes.flatMap((v) => (parent[v] >= 0 ? [{ a: parent[v], b: v }] : [])) };
    });
  }
  if (model === 'additive' && !changed && confidenceRates === 'scan') return { parent: rooted.parent, direction: rooted.direction, weights, rounds: rooted.rounds, rho: {} };
  const direction = directionOfRooted(refitted, roots, n, refitted.map((t, i) => posteriors(i)([t])[0]));
  for (const [v, q] of twinDirection) direction[v] = q;
  return { parent, direction, weights, rounds: rooted.rounds, rho };
}
