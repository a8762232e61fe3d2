/** Test model sets for the index: families of fine-tunes (known lineage) of one small architecture. */
import * as fs from 'fs';
import * as path from 'path';
import type { FingerprintConfig } from '../../lib/hub/sample';
import { RandomTensor, writeRandomModel } from '../helpers/models';

export const LAYOUT: RandomTensor[] = [
  { name: 'fc1.weight', shape: [96, 70], dtype: 'F32' },
  { name: 'fc1.bias', shape: [96], dtype: 'F32' },
  { name: 'fc2.weight', shape: [50, 96], dtype: 'BF16' },
  { name: 'fc2.bias', shape: [50], dtype: 'F32' },
];

/** Small enough that every matrix is sampled, not kept whole. */
export const TEST_CONFIG: FingerprintConfig = { seed: 0, wholeMax: 64, wholeParams: 0, budget: 1024, keepMin: 128, cols: 16 };

/**
 * `families` chains root -> a -> b plus root -> c, each child the parent plus small noise.
 * Returns the lineage edges.
 */
export function writeFamilies(dir: string, families: number, seed = 1): { parent: string; child: string }[] {
  fs.mkdirSync(dir, { recursive: true });
  const edges: { parent: string; child: string }[] = [];
  for (let f = 0; f < families; f++) {
    const root = writeRandomModel(path.join(dir, `f${f}-root.safetensors`), LAYOUT, seed * 1000 + f * 10);
    const small = LAYOUT.map((t) => ({ ...t, scale: 0.01 }));
    const a = writeRandomModel(path.join(dir, `f${f}-a.safetensors`), small, seed * 1000 + f * 10 + 1, root);
    writeRandomModel(path.join(dir, `f${f}-b.safetensors`), small, seed * 1000 + f * 10 + 2, a);
    writeRandomModel(path.join(dir, `f${f}-c.safetensors`), small, seed * 1000 + f * 10 + 3, root);
    edges.push({ parent: `f${f}-root`, child: `f${f}-a` }, { parent: `f${f}-a`, child: `f${f}-b` }, { parent: `f${f}-root`, child: `f${f}-c` });
  }
  fs.writeFileSync(path.join(dir, 'lineage.json'), JSON.stringify({ edges }));
  return edges;
}
