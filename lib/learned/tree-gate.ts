/**
 * The tree gate: how hard it is for the learned detector to overturn the additive tree's
 * choices, by how sure the tree was of them. Kept apart from tfjs so the CLI can name its
 * default without loading the learned detector.
 */
import { EDGE_FEATURES, NODE_FEATURES } from './features';

const AT_PARENT = EDGE_FEATURES.indexOf('at-parent');
const AT_DIRECTION = EDGE_FEATURES.indexOf('at-direction');
const AT_ROOT = NODE_FEATURES.indexOf('at-root');
const AT_ROOT_DIRECTION = NODE_FEATURES.indexOf('at-root-direction');

/** log(p / (1 − p)) with p kept off 0 and 1, floored at 0: a direction at or below even odds earns nothing. */
function logOdds(p: number): number {
  const q = Math.min(Math.max(p, 0.5), 1 - 1e-4);
  return Math.log(q / (1 - q));
}

/** What new detectors record (DEFAULT_CONFIG.treeGate, `phylogeny train --tree-gate`): chosen by
 * leave-one-regime-out over held-out accuracy (npm run eval:learned-regimes; docs/learned.md). */
export const DEFAULT_TREE_GATE = 4;

/** Whether `x` is a usable β (a finite number ≥ 0): one rule for the CLI, the library and detector files. */
export function isTreeGate(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

/**
 * The tree gate: β × the additive tree's own direction log-odds added to the logit of each
 * choice the additive tree made (its edge into a child; a root's "no parent", by how sure its
 * family was of its children's direction). β = 0 leaves the logits as they are.
 *
 * Why, and why it is not trained: on the regimes it is trained on, the network learns to
 * override the additive tree wherever that is right there, and on validation children of the
 * same regimes overriding always pays. On a regime it never saw, its overrides of edges the
 * tree was sure of are where it goes wrong (held out partial and tiny fine-tunes: 90% against
 * the tree's 100%), while the tree's unsure edges are where it gains (mixed regimes). So β
 * makes an override cost in proportion to the tree's certainty, and it is chosen by leave-one-
 * regime-out over held-out accuracy (scripts/eval-learned-regimes.ts), never on validation.
 */
export function gateLogits(logits: Float32Array, edge: Float32Array, node: Float32Array, pairs: number, models: number, beta: number): Float32Array {
  if (!beta) return logits;
  const F = EDGE_FEATURES.length;
  const G = NODE_FEATURES.length;
  const out = Float32Array.from(logits);
  for (let i = 0; i < pairs; i++) if (edge[i * F + AT_PARENT] === 1) out[i] += beta * logOdds(edge[i * F + AT_DIRECTION]);
  for (let m = 0; m < models; m++) if (node[m * G + AT_ROOT] === 1) out[pairs + m] += beta * logOdds(node[m * G + AT_ROOT_DIRECTION]);
  return out;
}
