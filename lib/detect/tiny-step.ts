/**
 * Do tiny steps reverse the weight statistics? Along a fine-tune whose whole change is tiny
 * next to the model (relative step ‖a − b‖² / ½(‖a‖² + ‖b‖²) below about 1e-4: a few steps at
 * lr 1e-5), the norm, the fake-init distance and the norm gains' drift mostly *fall* instead
 * of growing. Over the trained groups of the regimes study (`npm run eval:regimes`, its table
 * by relative step), the 104 edges below 1e-4 grow their norm along 33–39%, their fake-init
 * distance along 11–42% and their gains' drift along 0–6.5%, against 71–81% and 77–90% above
 * 1e-4. But not everywhere: the fake-init distance grows along the tiny fine-tunes of the
 * PyTorch-trained CNNs and ViTs (81% and 62.5%).
 *
 * With `tinyStep` (a ratio r), the direction score's vote on a pair whose relative step is
 * below r counts reversed (root-posterior.ts `reverses`); with `tinyStepGains`, a norm gain's
 * fake-init vote on such a pair counts reversed instead of abstaining. Measured, neither the
 * default: over 47 groups the first takes the tfjs ViT's tiny families from 41.7% to 66.7% but
 * costs an edge of the PyTorch ViTs', so the leave-one-group-out rejects it; the second costs
 * nothing and gains one family's edge (docs/detect.md, "Tiny steps").
 */
import type { ScanTensor } from '../scan/types';
import { squaredDifference } from './distances';

/** The relative step ‖a − b‖² / ½(‖a‖² + ‖b‖²) between models a and b (scan indices) over
 * the tensors both have; NaN when they share none or both are zero. */
export function relativeStep(tensors: ScanTensor[], a: number, b: number): number {
  let d2 = 0;
  let sq = 0;
  for (const t of tensors) {
    const i = t.models.indexOf(a);
    const j = t.models.indexOf(b);
    if (i < 0 || j < 0) continue;
    d2 += squaredDifference(t, i, j);
    sq += (t.gram[i][i] + t.gram[j][j]) / 2;
  }
  return sq > 0 ? d2 / sq : NaN;
}

/** The relative step between models u and v (indices into `models`), memoised per pair: the
 * root posterior asks for every tree edge under every root. */
export function relativeSteps(tensors: ScanTensor[], models: number[]): (u: number, v: number) => number {
  const cache = new Map<number, number>();
  const n = models.length;
  return (u: number, v: number): number => {
    const key = u < v ? u * n + v : v * n + u;
    let step = cache.get(key);
    if (step === undefined) cache.set(key, (step = relativeStep(tensors, models[u], models[v])));
    return step;
  };
}

/** Whether the relative step between models u and v is below `ratio`; `steps` lets the score's
 * and the gains' tests share one memo. */
export function tinyStepTest(tensors: ScanTensor[], models: number[], ratio: number, steps = relativeSteps(tensors, models)): (u: number, v: number) => boolean {
  return (u: number, v: number): boolean => steps(u, v) < ratio;
}
