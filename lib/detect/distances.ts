/**
 * Pairwise model distances from the per-tensor Gram matrices: ‖a−b‖² = G_aa + G_bb − 2G_ab,
 * normalised per tensor and combined over the tensors both models have. Models that share no
 * tensor get Infinity: nothing says they are related, so they fall into separate families.
 */
import type { ScanTensor } from '../scan/types';
import type { Combine, DistanceMetric, DistanceNormalize } from './options';

export interface DistanceSettings {
  metric: DistanceMetric;
  normalize: DistanceNormalize;
  combine: Combine;
}

/** ‖a−b‖² of the models in slots i and j of tensor t, clamped at 0 (Gram rounding). */
export function squaredDifference(t: ScanTensor, i: number, j: number): number {
  const g = t.gram;
  return Math.max(0, g[i][i] + g[j][j] - 2 * g[i][j]);
}

/**
 * The per-tensor term of the models in slots i and j. For every setting but 'rms' it is a squared quantity and the combined
 * sum is square-rooted at the end; 'rms' (MoTHer: per-layer root-mean-square ΔW) is already a
 * distance and is averaged as is.
 */
function tensorTerm(t: ScanTensor, i: number, j: number, s: DistanceSettings): number {
  const gii = t.gram[i][i];
  const gjj = t.gram[j][j];
  if (s.metric === 'cosine') {
    // ‖â − b̂‖² = 2 − 2cos: the difference of the unit-normalised tensors; a zero tensor has no
    // direction, taken as orthogonal to a non-zero one and equal to another zero one.
    if (gii <= 0 && gjj <= 0) return 0;
    if (gii <= 0 || gjj <= 0) return 1;
    const cos = t.gram[i][j] / Math.sqrt(gii * gjj);
    return Math.max(0, 2 - 2 * Math.min(1, cos));
  }
  const d2 = squaredDifference(t, i, j);
  switch (s.normalize) {
    case 'none':
      return d2;
    case 'per-element':
      return d2 / t.count;
    case 'relative': {
      const scale = (gii + gjj) / 2;
      return scale > 0 ? d2 / scale : 0;
    }
    case 'rms':
      return Math.sqrt(d2 / t.count);
  }
}

/** Symmetric M×M distance matrix over all models (diagonal 0). */
export function computeDistances(tensors: ScanTensor[], nModels: number, s: DistanceSettings): number[][] {
  const num = Array.from({ length: nModels }, () => new Float64Array(nModels));
  const den = Array.from({ length: nModels }, () => new Float64Array(nModels));
  const shared = Array.from({ length: nModels }, () => new Int32Array(nModels));
  for (const t of tensors) {
    const w = s.combine === 'size-weighted' ? t.count : 1;
    const k = t.models.length;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        const a = t.models[i];
        const b = t.models[j];
        const v = w * tensorTerm(t, i, j, s);
        num[a][b] += v;
        num[b][a] += v;
        den[a][b] += w;
        den[b][a] += w;
        shared[a][b]++;
        shared[b][a]++;
      }
    }
  }
  const linear = s.metric === 'euclidean' && s.normalize === 'rms';
  const out: number[][] = [];
  for (let a = 0; a < nModels; a++) {
    const row = new Array<number>(nModels);
    for (let b = 0; b < nModels; b++) {
      if (a === b) row[b] = 0;
      else if (shared[a][b] === 0) row[b] = Infinity;
      else {
        const combined = s.combine === 'sum' ? num[a][b] : num[a][b] / den[a][b];
        row[b] = linear ? combined : Math.sqrt(Math.max(0, combined));
      }
    }
    out.push(row);
  }
  return out;
}

/** Finite off-diagonal distances of the upper triangle. */
export function finitePairDistances(dist: number[][]): number[] {
  const out: number[] = [];
  for (let i = 0; i < dist.length; i++) for (let j = i + 1; j < dist.length; j++) if (Number.isFinite(dist[i][j])) out.push(dist[i][j]);
  return out;
}

/**
 * Combined squared distances among `models` (row-major, |models|²; 'rms' is not squared and
 * not accepted) over the tensors that every one of them has, so that all pairs are measured in
 * one space: sums over different tensor sets are not comparable, and a tree metric needs one
 * space (a model with a resized vocabulary, compared on fewer tensors, would look near to
 * everything). With no tensor common to all, each pair uses the tensors it shares (Infinity
 * where it shares none) and `common` is false.
 */
export function squaredDistancesOver(tensors: ScanTensor[], models: number[], s: DistanceSettings): { d2: Float64Array; common: boolean } {
  const k = models.length;
  const slotsOf = (t: ScanTensor) => models.map((m) => t.models.indexOf(m));
  const all = tensors.filter((t) => models.every((m) => t.models.includes(m)));
  const common = all.length > 0;
  const num = new Float64Array(k * k);
  const den = new Float64Array(k * k);
  for (const t of common ? all : tensors) {
    const slots = slotsOf(t);
    const w = s.combine === 'size-weighted' ? t.count : 1;
    for (let i = 0; i < k; i++) {
      if (slots[i] < 0) continue;
      for (let j = i + 1; j < k; j++) {
        if (slots[j] < 0) continue;
        const v = w * tensorTerm(t, slots[i], slots[j], s);
        num[i * k + j] += v;
        den[i * k + j] += w;
      }
    }
  }
  const d2 = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const v = den[i * k + j] === 0 ? Infinity : s.combine === 'sum' ? num[i * k + j] : num[i * k + j] / den[i * k + j];
      d2[i * k + j] = v;
      d2[j * k + i] = v;
    }
  }
  return { d2, common };
}

/**
 * Per tensor that every one of `models` has: their squared distances on it alone (row-major,
 * |models|² each). What a tensor-by-tensor vote needs (forgetting.ts, tensor-majority.ts).
 */
export function perTensorSquaredDistances(tensors: ScanTensor[], models: number[]): Float64Array[] {
  const k = models.length;
  const out: Float64Array[] = [];
  for (const t of tensors) {
    const slots = models.map((m) => t.models.indexOf(m));
    if (slots.some((x) => x < 0)) continue;
    const d2 = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        const v = squaredDifference(t, slots[i], slots[j]);
        d2[i * k + j] = v;
        d2[j * k + i] = v;
      }
    }
    out.push(d2);
  }
  return out;
}
