/**
 * Quantized children: a model that is another stored at lower precision. Its difference from
 * the source is rounding noise whose size the format fixes, so it is found from the scan's
 * Gram and dtypes alone: for each tensor where q is stored less precisely than p, rounding adds
 * about ‖p_t‖² × FORMAT_NOISE[q's dtype] to ‖p − q‖²; where both have the same dtype it adds
 * nothing. q is a quantized child of p when ‖p − q‖² ≤ SLACK × that expectation and q's
 * expected rounding noise exceeds p's (a tensor stored finer in q than in p, like the F32
 * norms of a GGUF copy of a BF16 model, is a widening: exact, allowed, expected noise counted
 * once). The direction is the precision: quantizing only loses bits. A fine-tune stored at lower precision moves further
 * than its rounding and stays a fine-tune.
 *
 * Expected noise per element, relative to the mean square of the values:
 *   floats, round to nearest with p mantissa bits: u²/3, u = 2^−p (F16: p = 11, BF16: p = 8);
 *   ggml block formats, b bits over a block's range ±max with max ≈ 2.1σ (the expected largest
 *   |x| of 32 Gaussian values): step² / 12 = (2·2.1/2^b)² / 12 ≈ 1.47 / 4^b.
 *   GPTQ/AWQ, b bits with a scale and zero per group of g inputs spanning the group's range,
 *   about 2·√(2 ln g)·σ for g Gaussian values (6.2σ at g = 128): step² / 12 = (6.2/(2^b − 1))² / 12.
 * These are models of the formats, not fits: SLACK = 4 leaves room for heavier-tailed weights
 * and for formats whose scales are finer (the K-quants are below the model, never above).
 */
import type { ScanTensor } from '../../scan/types';
import { squaredDifference } from '../distances';

const float = (p: number): number => 2 ** (-2 * p) / 3;
const block = (bits: number): number => 1.47 / 4 ** bits;
const grouped = (bits: number): number => (6.2 / (2 ** bits - 1)) ** 2 / 12;

/** Expected relative mean-square rounding noise per element, by dtype name. */
export const FORMAT_NOISE: Readonly<Record<string, number>> = {
  F64: float(53),
  F32: float(24),
  F16: float(11),
  BF16: float(8),
  Q8_0: block(8),
  Q6_K: block(6),
  Q5_0: block(5),
  Q5_1: block(5),
  Q5_K: block(5),
  Q4_0: block(4),
  Q4_1: block(4),
  Q4_K: block(4),
  IQ4_NL: block(4),
  IQ4_XS: block(4),
  Q3_K: block(3),
  Q2_K: block(2),
  GPTQ4: grouped(4),
  GPTQ8: grouped(8),
  AWQ4: grouped(4),
};

export const SLACK = 4;

export interface FoundQuantized {
  child: number;
  parent: number;
  /** ‖p − q‖² / expected rounding noise (≤ SLACK). */
  ratio: number;
}

/** Quantized children among `models` (copies excluded); `related` is the correlation gate. */
export function findQuantized(tensors: ScanTensor[], models: number[], related: boolean[][]): FoundQuantized[] {
  const out: FoundQuantized[] = [];
  for (const q of models) {
    let best: FoundQuantized | null = null;
    for (const p of models) {
      if (p === q || !related[p][q]) continue;
      let d2 = 0;
      let gainQ = 0;
      let gainP = 0;
      let known = true;
      let shared = 0;
      for (const t of tensors) {
        const i = t.models.indexOf(p);
        const j = t.models.indexOf(q);
        if (i < 0 || j < 0) continue;
        const np = FORMAT_NOISE[t.dtypes[i]];
        const nq = FORMAT_NOISE[t.dtypes[j]];
        if (np === undefined || nq === undefined) {
          known = false;
          break;
        }
        shared++;
        d2 += squaredDifference(t, i, j);
        // Rounding into the coarser of the two adds its noise; a tensor widened into a finer
        // dtype (GGUF keeps norms in F32 over a BF16 source) adds none and costs nothing.
        if (nq > np) gainQ += t.gram[i][i] * (nq - np);
        else gainP += t.gram[i][i] * (np - nq);
      }
      // q is the coarser copy overall: quantizing only loses bits.
      if (!known || shared === 0 || !(gainQ > gainP)) continue;
      const ratio = d2 / (gainQ + gainP);
      if (ratio <= SLACK && (!best || ratio < best.ratio)) best = { child: q, parent: p, ratio };
    }
    if (best) out.push(best);
  }
  return out;
}
