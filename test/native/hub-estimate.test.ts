/**
 * The estimated Gram (lib/hub/estimate.ts) against a plain float64 reference: for every tensor
 * group, scale × the dot product over the coordinates all members share, summed in index
 * order. 'first-row' (what a query computes) gives the same numbers for the query's row and
 * the diagonal, and NaN elsewhere. Fresh random models each run, 1 to 7 of them (the dot
 * products are computed four at a time, so counts that are not multiples of four matter).
 */
import * as path from 'path';
import { openModels } from '../../lib/io/discover';
import { estimateScan, gatherGroup, IndexedModel } from '../../lib/hub/estimate';
import { fingerprintModel } from '../../lib/hub/fingerprint';
import { rng, tmpDir, writeRandomModel } from '../helpers/models';
import { LAYOUT, TEST_CONFIG } from '../helpers/hub-family';

describe('estimated Gram', () => {
  const dir = tmpDir('np-hub-est-');
  const seed = (Date.now() ^ (process.pid << 10)) >>> 0;
  let models: IndexedModel[] = [];

  beforeAll(async () => {
    const u = rng(seed);
    const paths: string[] = [];
    let root: Map<string, Float32Array> | undefined;
    for (let i = 0; i < 7; i++) {
      // Some children of the first model, some independent: correlated and uncorrelated pairs.
      const p = path.join(dir, `m${i}.safetensors`);
      const parent = i > 0 && u.uniform() < 0.6 ? root : undefined;
      const values = writeRandomModel(p, parent ? LAYOUT.map((t) => ({ ...t, scale: 0.01 })) : LAYOUT, (seed + i * 7919) >>> 0, parent);
      if (i === 0) root = values;
      paths.push(p);
    }
    const set = await openModels(paths);
    models = await Promise.all(set.models.map(async (m) => ({ id: m.id, path: m.path, fingerprint: await fingerprintModel(m, { config: TEST_CONFIG }) })));
  });

  test.each([1, 2, 3, 4, 5, 6, 7])(`%i models: every entry equals the plain float64 sum (seed ${seed})`, (k) => {
    const some = models.slice(0, k);
    const all = estimateScan(some);
    const first = estimateScan(some, { gram: 'first-row' });
    expect(all.tensors.length).toBe(LAYOUT.length);
    for (const [ti, t] of all.tensors.entries()) {
      const fts = t.models.map((m) => some[m].fingerprint.tensors.find((x) => x.name === t.name)!);
      const { coords, rows, cols } = gatherGroup(fts, t.shape[0]);
      const scale = t.count / (rows * cols);
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          let s = 0;
          for (let e = 0; e < coords[a].length; e++) s += coords[a][e] * coords[b][e];
          expect(t.gram[a][b]).toBe(scale * s);
          if (a === 0 || b === 0 || a === b) expect(first.tensors[ti].gram[a][b]).toBe(t.gram[a][b]);
          else expect(first.tensors[ti].gram[a][b]).toBeNaN();
        }
      }
    }
  });
});
