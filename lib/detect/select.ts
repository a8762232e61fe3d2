/**
 * Which scanned tensors enter detection. Include/exclude patterns let users drop tensors that
 * mislead (in LLMs, vocabulary-sized embed_tokens/lm_head can outweigh every other tensor);
 * normalisation layers' running statistics are left out unless asked for (running-stats.ts).
 */
import type { ScanResult, ScanTensor } from '../scan/types';
import { isRunningStat, type RunningStats } from './running-stats';

export function selectTensors(scan: ScanResult, include: string[], exclude: string[], runningStats: RunningStats = 'compare'): ScanTensor[] {
  const inc = include.map((p) => new RegExp(p));
  const exc = exclude.map((p) => new RegExp(p));
  return scan.tensors.filter(
    (t) =>
      (inc.length === 0 || inc.some((r) => r.test(t.name))) &&
      !exc.some((r) => r.test(t.name)) &&
      (runningStats === 'compare' || !isRunningStat(t.name)),
  );
}

/**
 * Tensors two or more models have: only those can tell models apart, and a tensor one model
 * alone has would shift its score against the others for no reason.
 */
export function comparedTensors(tensors: ScanTensor[]): ScanTensor[] {
  return tensors.filter((t) => t.models.length >= 2);
}

/** Per model: elements of the compared tensors it has (DetectedModel.params). */
export function comparedParams(tensors: ScanTensor[], nModels: number): number[] {
  const params = new Array<number>(nModels).fill(0);
  for (const t of comparedTensors(tensors)) for (const m of t.models) params[m] += t.count;
  return params;
}
