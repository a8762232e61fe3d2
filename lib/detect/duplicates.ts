/**
 * Exact duplicates: models whose compared weights are identical. They are indistinguishable,
 * so no method can orient them; detection works on one representative per group and hangs
 * the copies under it (docs/confidence.md).
 */
import type { ScanTensor } from '../scan/types';
import { sameTensor } from './unchanged-tensors';

/**
 * Groups (model indices, ascending; each of size ≥ 2) of identical models. Identical means: the
 * same compared tensors, each identical by sameTensor (unchanged-tensors.ts).
 */
export function findDuplicates(tensors: ScanTensor[], nModels: number): number[][] {
  const same: boolean[][] = Array.from({ length: nModels }, (_, a) => Array.from({ length: nModels }, (_, b) => a !== b));
  const membership: string[] = new Array(nModels).fill('');
  tensors.forEach((t, ti) => {
    for (const m of t.models) membership[m] += `${ti},`;
    const k = t.models.length;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        const a = t.models[i];
        const b = t.models[j];
        if (!same[a][b]) continue;
        if (!sameTensor(t, i, j)) same[a][b] = same[b][a] = false;
      }
    }
  });
  const groups: number[][] = [];
  const taken = new Uint8Array(nModels);
  for (let a = 0; a < nModels; a++) {
    if (taken[a] || membership[a] === '') continue;
    const group = [a];
    for (let b = a + 1; b < nModels; b++) {
      if (!taken[b] && same[a][b] && membership[a] === membership[b]) group.push(b);
    }
    if (group.length > 1) {
      for (const m of group) taken[m] = 1;
      groups.push(group);
    }
  }
  return groups;
}
