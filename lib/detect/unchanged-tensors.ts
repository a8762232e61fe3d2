/**
 * Unchanged tensors: a tensor that two models hold bit-identical was changed by no model on
 * the tree path between them. Training moves every tensor it updates (a gradient step, weight
 * decay), so identical copies are left by fine-tunes that froze the tensor: last-layer-only
 * and LoRA-style fine-tunes, adapters merged into some matrices only. Nothing trains a
 * tensor back to bit-identical values, so in the true tree the models that share a value of
 * a tensor form a connected subtree.
 *
 * Counted per tree edge, the tensors whose values differ at its two end points are the
 * tensor changes the tree implies. Every tensor whose identical copies are connected changes
 * the least possible number of times, so the true tree has the fewest changes of all trees:
 * Σ over edges of D(a, b), D the number of tensors that differ between a and b, is least, and
 * the trees with the least sum are the minimum spanning trees of D. With `unchangedTensors:
 * 'connect'` the tree searches (additive-fit.ts, shared-drift.ts, drift-correlations.ts) keep
 * to those trees; among them their own criteria decide as before.
 *
 * Not the default: a layer-wise merge (each tensor copied from one of two relatives) shows the
 * same identities as a parent with two partial fine-tunes, so kept connected it becomes the
 * parent of its sources; and the leave-one-group-out cannot tell the two settings apart
 * (docs/detect.md, "Unchanged tensors").
 *
 * Only informative tensors count: float tensors that every model of the family has and that
 * at least two of them hold identically. A tensor every model changed adds the same n − 1 to
 * every tree. Step counters (integers) are left out: siblings trained for the same number of
 * steps share a count that their parent does not. So is a tensor that two models hold as
 * multiples of each other but not identically: weight decay shrinks a tensor that gets no
 * gradient (an unused pooler, a head the task never reads) by the same factor in every
 * fine-tune of one recipe, and siblings trained alike then share values their parent lacks.
 */
import type { ScanTensor } from '../scan/types';
import { isFloatDtype } from '../io/dtype';
import { squaredDifference } from './distances';

/** 'connect': trees keep each tensor's identical copies connected; 'ignore': they are not read. */
export const UNCHANGED_TENSORS = ['connect', 'ignore'] as const;
export type UnchangedTensors = (typeof UNCHANGED_TENSORS)[number];

function close(x: number, y: number): boolean {
  return x === y || Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
}

/**
 * Whether the models in slots i and j of t hold identical values: equal moments, the same
 * full row counts where only a row prefix was compared, and a Gram distance at rounding level
 * (a GPU Gram may round G_ab differently from G_aa; equal moments rule out coincidences such
 * as permuted weights only together with it).
 */
export function sameTensor(t: ScanTensor, i: number, j: number): boolean {
  const scale = Math.max(t.gram[i][i], t.gram[j][j]);
  return (
    close(t.sum[i], t.sum[j]) &&
    close(t.sumSq[i], t.sumSq[j]) &&
    close(t.sumCube[i], t.sumCube[j]) &&
    close(t.sumQuad[i], t.sumQuad[j]) &&
    close(t.fakeInitSq[i], t.fakeInitSq[j]) &&
    squaredDifference(t, i, j) <= 1e-9 * scale &&
    (!t.rowPrefix || t.rowPrefix.fullRows[i] === t.rowPrefix.fullRows[j])
  );
}

/**
 * Per pair of the family's models (row-major, local order): how many informative tensors
 * differ between them. Null when no tensor is informative: then every tree implies the same
 * changes and nothing is constrained.
 */
export function tensorChanges(tensors: ScanTensor[], family: number[]): Float64Array | null {
  const n = family.length;
  const out = new Float64Array(n * n);
  let informative = 0;
  const slot = new Int32Array(n);
  const label = new Int32Array(n);
  for (const t of tensors) {
    let all = true;
    for (let a = 0; a < n && all; a++) {
      slot[a] = t.models.indexOf(family[a]);
      all = slot[a] >= 0 && isFloatDtype(t.dtypes[slot[a]]);
    }
    if (!all) continue;
    // Label each model by the first model identical to it (identity is transitive up to rounding).
    let shared = false;
    for (let a = 0; a < n; a++) {
      label[a] = a;
      for (let b = 0; b < a; b++) {
        if (label[b] === b && sameTensor(t, slot[a], slot[b])) {
          label[a] = b;
          shared = true;
          break;
        }
      }
    }
    if (!shared || decayedOnly(t, slot, n)) continue;
    informative++;
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        if (label[a] !== label[b]) {
          out[a * n + b]++;
          out[b * n + a]++;
        }
      }
    }
  }
  return informative > 0 ? out : null;
}

/**
 * Whether two of the models hold the tensor as different multiples of one another (cosine 1
 * to rounding, norms apart): a change by decay alone. Its copies may coincide without being
 * frozen, so the tensor constrains nothing. A trained change that is this close to a scaling
 * (a relative step below ~3e-5 of the tensor) is left out with it: a constraint lost, never a
 * wrong one.
 */
function decayedOnly(t: ScanTensor, slot: Int32Array, n: number): boolean {
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const i = slot[a];
      const j = slot[b];
      const gii = t.gram[i][i];
      const gjj = t.gram[j][j];
      const gij = t.gram[i][j];
      if (gii > 0 && gjj > 0 && gij > 0 && gij * gij >= (1 - 1e-9) * gii * gjj && !sameTensor(t, i, j)) return true;
    }
  }
  return false;
}

/** Σ over the edges (parent pointers, −1 at the root) of the tensor changes D. */
export function changesOfTree(D: Float64Array, n: number, parent: ArrayLike<number>): number {
  let s = 0;
  for (let v = 0; v < n; v++) if (parent[v] >= 0) s += D[v * n + parent[v]];
  return s;
}

/**
 * Whether hanging v under x (parent pointers) would imply more tensor changes than v's edge to
 * its parent does; the rooted tree searches leave such moves out.
 */
export function addsChanges(changes: Float64Array | null, n: number, parent: Int32Array, v: number, x: number): boolean {
  return changes !== null && changes[v * n + x] > changes[v * n + parent[v]];
}

/** Σ of D over edges given as pairs. */
export function changesOfEdges(D: Float64Array, n: number, edges: { a: number; b: number }[]): number {
  let s = 0;
  for (const e of edges) s += D[e.a * n + e.b];
  return s;
}
