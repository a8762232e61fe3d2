/**
 * Whether two models are related at all, on an absolute scale that distances lack. Models
 * grown from independent initializations have weights that are uncorrelated element by
 * element (the permutation symmetry of hidden units leaves nothing to line up), while a
 * fine-tune keeps most of its parent's weights: the Pearson correlation of the centred weights
 * is near 0 for the first and near 1 for the second, whatever the architecture's scale.
 * Computed from the Gram, Σx and Σx² of the scan; pooled over tensors by size, so its noise
 * for unrelated models is about 1/√(elements compared).
 */
import type { ScanTensor } from '../scan/types';

export interface Correlation {
  /** M×M pooled correlation; NaN where the pair shares no tensor with variance. */
  rho: number[][];
  /** M×M elements pooled (the null distribution's standard deviation is 1/√elements). */
  elements: number[][];
}

/** Pooled Pearson correlation of every pair over the tensors it shares. */
export function weightCorrelation(tensors: ScanTensor[], nModels: number): Correlation {
  const num = Array.from({ length: nModels }, () => new Float64Array(nModels));
  const den = Array.from({ length: nModels }, () => new Float64Array(nModels));
  for (const t of tensors) {
    const n = t.count;
    if (n < 2) continue;
    const k = t.models.length;
    const mean = t.sum.map((s) => s / n);
    const variance = t.sumSq.map((s, i) => {
      const v = s / n - mean[i] * mean[i];
      // Constant tensors (norm weights at init) carry no evidence; cancellation noise neither.
      return v > 1e-12 * (s / n) ? v : 0;
    });
    for (let i = 0; i < k; i++) {
      if (variance[i] === 0) continue;
      for (let j = i + 1; j < k; j++) {
        if (variance[j] === 0) continue;
        const cov = t.gram[i][j] / n - mean[i] * mean[j];
        const rho = Math.max(-1, Math.min(1, cov / Math.sqrt(variance[i] * variance[j])));
        const a = t.models[i];
        const b = t.models[j];
        num[a][b] += n * rho;
        num[b][a] += n * rho;
        den[a][b] += n;
        den[b][a] += n;
      }
    }
  }
  return {
    rho: num.map((row, a) => Array.from(row, (v, b) => (a === b ? 1 : den[a][b] > 0 ? v / den[a][b] : NaN))),
    elements: den.map((row) => Array.from(row)),
  };
}

/** How many null standard deviations a correlation must clear to count as related. */
export const NOISE_SIGMAS = 5;

/**
 * The distances used for linking: Infinity where the pair is unrelated, i.e. its correlation
 * is below max(minCorrelation, tanh(5/√(elements − 3))), the second term being a 5σ test
 * against zero correlation on Fisher's z scale. It keeps chance correlations of small models
 * (a few hundred weights: σ ≈ 0.06) from linking them, and vanishes for real networks.
 * Unknown correlation (NaN) leaves the distance alone: no evidence either way.
 */
export function gateDistances(dist: number[][], corr: Correlation | null, minCorrelation: number | null): number[][] {
  if (corr === null || minCorrelation === null) return dist.map((r) => r.slice());
  return dist.map((row, a) =>
    row.map((d, b) => {
      if (a === b) return d;
      const threshold = Math.max(minCorrelation, Math.tanh(NOISE_SIGMAS / Math.sqrt(Math.max(1, corr.elements[a][b] - 3))));
      return corr.rho[a][b] < threshold ? Infinity : d;
    }),
  );
}
