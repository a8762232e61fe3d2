/**
 * Exact duplicates: models whose compared weights are identical. They are indistinguishable,
 * so no method can orient them; detection works on one representative per group and hangs
 * the copies under it (docs/confidence.md).
 */
import type { ScanTensor } from '../scan/types';
import { squaredDifference } from './distances';

function close(x: number, y: number): boolean {
  return x === y || Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
}

/**
 * Groups (model indices, ascending; each of size ≥ 2) of identical models. Identical means: the
 * same compared tensors, equal moments, the same full row counts where only a row prefix was
 * compared, and a Gram distance at rounding level (a GPU Gram may round G_ab differently
 * from G_aa; equal moments rule out coincidences such as permuted weights only together with it).
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
        const scale = Math.max(t.gram[i][i], t.gram[j][j]);
        const equal =
          close(t.sum[i], t.sum[j]) &&
          close(t.sumSq[i], t.sumSq[j]) &&
          close(t.sumCube[i], t.sumCube[j]) &&
          close(t.sumQuad[i], t.sumQuad[j]) &&
          close(t.fakeInitSq[i], t.fakeInitSq[j]) &&
          squaredDifference(t, i, j) <= 1e-9 * scale &&
          (!t.rowPrefix || t.rowPrefix.fullRows[i] === t.rowPrefix.fullRows[j]);
        if (!equal) same[a][b] = same[b][a] = false;
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
