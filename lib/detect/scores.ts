/**
 * Direction scores: one number per model, lower = closer to initialization = more likely an
 * ancestor. Each is a per-tensor quantity, normalised per tensor and combined over the
 * tensors the model has.
 *
 * - fake-init (the paper's): Σ(θ − r)² with r a seeded draw from the default initializer.
 *   Since r is independent of θ, E‖θ − r‖² = ‖θ‖² + E‖r‖², so it ranks like the plain norm
 *   once tensors are combined unnormalised.
 * - norm: ‖θ‖².
 * - kurtosis (MoTHer): fourth standardised moment of the weights; its sign along fine-tuning
 *   differs between small vision nets and LLMs, hence scoreSign 'auto'.
 */
import type { ScanTensor } from '../scan/types';
import type { Combine, ScoreKind, ScoreNormalize } from './options';

export interface ScoreSettings {
  kind: ScoreKind;
  normalize: ScoreNormalize;
  combine: Combine;
  tensors: 'all' | 'matrices';
}

/** E[r²] per element of the tensor's fake-init distribution. */
export function initSecondMoment(t: Pick<ScanTensor, 'fakeInit'>): number {
  const { kind, a, b } = t.fakeInit;
  if (kind === 'constant') return a * a;
  if (kind === 'uniform') return (a * a + a * b + b * b) / 3;
  return a * a + b * b;
}

/** Kurtosis m4/m2² of one model's elements of a tensor; null when undefined (constant). */
export function tensorKurtosis(t: ScanTensor, slot: number): number | null {
  const n = t.count;
  if (n < 4) return null;
  const mu = t.sum[slot] / n;
  const e2 = t.sumSq[slot] / n;
  const e3 = t.sumCube[slot] / n;
  const e4 = t.sumQuad[slot] / n;
  const m2 = e2 - mu * mu;
  // Cancellation leaves noise of order e2·ε; below that the tensor is effectively constant.
  if (!(m2 > 1e-12 * e2) || !(m2 > 0)) return null;
  const m4 = e4 - 4 * mu * e3 + 6 * mu * mu * e2 - 3 * mu ** 4;
  return Math.max(0, m4) / (m2 * m2);
}

function meanSumSq(t: ScanTensor): number {
  let s = 0;
  for (const v of t.sumSq) s += v;
  return s / t.sumSq.length;
}

/** The per-tensor value for the model in `slot`, normalised; null when it has none. */
function tensorValue(t: ScanTensor, slot: number, s: ScoreSettings): number | null {
  if (s.kind === 'kurtosis') return tensorKurtosis(t, slot);
  const raw = s.kind === 'fake-init' ? t.fakeInitSq[slot] : t.sumSq[slot];
  switch (s.normalize) {
    case 'none':
      return raw;
    case 'per-element':
      return raw / t.count;
    case 'init': {
      // A zero-init tensor (e.g. zeros for biases) has no init scale: fall back to the typical
      // squared norm of the tensor across models, which is just as dimensionless.
      const expected = t.count * initSecondMoment(t);
      const scale = expected > 0 ? expected : meanSumSq(t);
      return scale > 0 ? raw / scale : 0;
    }
    case 'mean-norm': {
      const scale = meanSumSq(t);
      return scale > 0 ? raw / scale : 0;
    }
  }
}

/**
 * Scores of every model over the given tensors (callers pass the compared tensors). Models
 * without any usable tensor get NaN.
 */
export function computeScores(tensors: ScanTensor[], nModels: number, s: ScoreSettings): Float64Array {
  const num = new Float64Array(nModels);
  const den = new Float64Array(nModels);
  const terms = new Int32Array(nModels);
  const matrixOnly = s.tensors === 'matrices';
  // 'matrices' falls back to every tensor for a model that has no matrix at all.
  const hasMatrix = new Uint8Array(nModels);
  if (matrixOnly) for (const t of tensors) if (t.shape.length >= 2) for (const m of t.models) hasMatrix[m] = 1;
  for (const t of tensors) {
    const isMatrix = t.shape.length >= 2;
    t.models.forEach((m, slot) => {
      if (matrixOnly && !isMatrix && hasMatrix[m]) return;
      const v = tensorValue(t, slot, s);
      if (v === null || !Number.isFinite(v)) return;
      const w = s.combine === 'size-weighted' ? t.count : 1;
      num[m] += w * v;
      den[m] += w;
      terms[m]++;
    });
  }
  const out = new Float64Array(nModels);
  for (let m = 0; m < nModels; m++) {
    if (terms[m] === 0) out[m] = NaN;
    else out[m] = s.combine === 'sum' ? num[m] : num[m] / den[m];
  }
  return out;
}
