/**
 * Low-rank fine-tunes (a LoRA merged into full weights, or any update of small rank): a bounded
 * second pass over the finetune edges a detection found. For each edge, every 2-D tensor the
 * parent and child share is read by byte range (lib/io/tensor-data.ts) and the spectrum of the
 * change child − parent is sketched natively by a randomized range finder (native/core/low_rank.h:
 * the top k singular values and ‖Δ‖², in O(rows·cols·k) work, never a full SVD).
 *
 * A change has numerical rank r when what its top r singular values leave,
 * ‖Δ‖² − Σᵢ≤ᵣ σᵢ², is within what storage rounding alone puts into Δ (SLACK × the rounding noise
 * FORMAT_NOISE expects of the two tensors' dtypes, the quantized typer's model) plus CAPTURE of
 * ‖Δ‖² (room for the sketch's own shortfall). An edge is low-rank when it changed at least one
 * matrix and every changed matrix has such an r ≤ maxRank that is also at most a quarter of the
 * matrix's smaller side (a small matrix is full-rank at any r); it is then reported with
 * `lowRank: true` and `rank`, the largest r over its matrices. Unchanged matrices (Δ = 0, what a
 * LoRA leaves alone) do not count either way.
 */
import { native } from '../../native';
import type { ModelSet, TensorEntry } from '../../io/types';
import { isScannable, readTensorValues } from '../../io/tensor-data';
import { edgeTypeOf } from '../../io/edge-types';
import type { DetectionResult } from '../types';
import { FORMAT_NOISE, SLACK } from './quantized';

/** Share of ‖Δ‖² the sketch may miss on an exactly low-rank change (1 subspace iteration,
 * 8 columns of oversampling: far below this on every matrix measured; test/native/low-rank.test.ts). */
export const CAPTURE = 0.01;
/** Columns sketched beyond maxRank. */
export const OVERSAMPLE = 8;
/** Elements of each model read per edge at most (the first matrices in file order). */
export const MAX_ELEMENTS_PER_EDGE = 64 * 1024 * 1024;

export interface LowRankOptions {
  /** Largest rank reported as low (default 16; the sketch has maxRank + OVERSAMPLE columns). */
  maxRank?: number;
  seed?: number;
}

export interface MatrixRank {
  /** Numerical rank, or null when above what the sketch can see (not low-rank). */
  rank: number | null;
  energy: number;
}

/** The numerical rank of Δ from its sketched spectrum (see the header), or null. */
export function rankFromSpectrum(singular: ArrayLike<number>, energy: number, noise: number): number | null {
  const allowed = SLACK * noise + CAPTURE * energy;
  let tail = energy;
  if (tail <= allowed) return 0;
  for (let r = 0; r < singular.length; r++) {
    tail -= singular[r] * singular[r];
    if (tail <= allowed) return r + 1;
  }
  return null;
}

const sumSq = (v: Float32Array) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
};

/** Numerical rank of child − parent for one pair of same-shaped 2-D tensors. */
export async function matrixRank(child: TensorEntry, parent: TensorEntry, maxRank: number, seed = 0): Promise<MatrixRank> {
  const [rows, cols] = child.shape;
  const c = readTensorValues(child);
  const p = readTensorValues(parent);
  const { singular, energy } = await native().lowRankSpectrum(c, p, rows, cols, { k: maxRank + OVERSAMPLE, powerIters: 1, seed });
  if (energy === 0) return { rank: 0, energy };
  const noise = (FORMAT_NOISE[child.dtype] ?? 0) * sumSq(c) + (FORMAT_NOISE[parent.dtype] ?? 0) * sumSq(p);
  const r = rankFromSpectrum(singular, energy, noise);
  return { rank: r !== null && r <= maxRank && 4 * r <= Math.min(rows, cols) ? r : null, energy };
}

/**
 * Marks the finetune edges of `result` whose change is low-rank (`lowRank`, `rank`). Models
 * missing from `set` (a detection from a scan file alone) are skipped. Returns notes.
 */
export async function markLowRank(result: DetectionResult, set: ModelSet, opts: LowRankOptions = {}): Promise<string[]> {
  const maxRank = opts.maxRank ?? 16;
  const byId = new Map(set.models.map((m) => [m.id, m]));
  const found: string[] = [];
  for (const e of result.edges) {
    if (edgeTypeOf(e) !== 'finetune') continue;
    const child = byId.get(e.child);
    const parent = byId.get(e.parent);
    if (!child || !parent) continue;
    const pt = new Map(parent.tensors.map((t) => [t.name, t]));
    let changed = 0;
    let rank = 0;
    let low = true;
    let read = 0;
    for (const t of child.tensors) {
      const q = pt.get(t.name);
      if (!q || t.shape.length !== 2 || q.shape.join() !== t.shape.join() || !isScannable(t) || !isScannable(q) || t.lora || q.lora) continue;
      // Bounded reads: past the cap the verdict rests on the matrices read so far.
      read += t.shape[0] * t.shape[1];
      if (read > MAX_ELEMENTS_PER_EDGE && changed > 0) break;
      const m = await matrixRank(t, q, maxRank, opts.seed ?? 0);
      if (m.energy === 0) continue;
      changed++;
      if (m.rank === null) {
        low = false;
        break;
      }
      rank = Math.max(rank, m.rank);
    }
    if (low && changed > 0 && rank > 0) {
      e.lowRank = true;
      e.rank = rank;
      found.push(`${e.parent} → ${e.child} (rank ${rank})`);
    }
  }
  return found.length ? [`low-rank fine-tunes (every changed matrix of rank ≤ ${maxRank}): ${found.join('; ')}`] : [];
}
