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
import { colsOfRow, keepRateFor, sampleTensor } from '../../lib/hub/sample';

describe('estimated Gram', () => {
  const dir = tmpDir('np-hub-est-');
  const seed = Number(process.env.NP_TEST_SEED ?? (Date.now() ^ (process.pid << 10)) >>> 0); // NP_TEST_SEED=N repeats a run
  let models: IndexedModel[] = [];
  const weights: Map<string, Float32Array>[] = [];

  beforeAll(async () => {
    const u = rng(seed);
    const paths: string[] = [];
    let root: Map<string, Float32Array> | undefined;
    for (let i = 0; i < 7; i++) {
      // Some children of the first model, some independent: correlated and uncorrelated pairs.
      const p = path.join(dir, `m${i}.safetensors`);
      const parent = i > 0 && u.uniform() < 0.6 ? root : undefined;
      const values = writeRandomModel(p, parent ? LAYOUT.map((t) => ({ ...t, scale: 0.01 })) : LAYOUT, (seed + i * 7919) >>> 0, parent);
      weights.push(values);
      if (i === 0) root = values;
      paths.push(p);
    }
    const set = await openModels(paths);
    models = await Promise.all(set.models.map(async (m) => ({ id: m.id, path: m.path, fingerprint: await fingerprintModel(m, { config: TEST_CONFIG }) })));
  });

  test(`a squared difference is exact on the sampled rows and each row's own columns, scaled (seed ${seed})`, () => {
    const est = estimateScan(models);
    let checked = 0;
    for (const spec of LAYOUT.filter((t) => t.dtype === 'F32' && t.shape.length === 2)) {
      const t = est.tensors.find((x) => x.name === spec.name)!;
      const keep = keepRateFor(TEST_CONFIG, LAYOUT.reduce((a, x) => a + x.shape.reduce((p, d) => p * d, 1), 0));
      // The coordinates from the sampler alone, and the weights as written (F32: exact).
      const s = sampleTensor(TEST_CONFIG, spec.name, spec.shape, keep);
      expect(s.colMode).toBe('per-row');
      const rowLen = spec.shape[1];
      const coords: number[] = [];
      s.rows.forEach((r, i) => colsOfRow(s, i).forEach((c) => coords.push(r * rowLen + c)));
      for (let a = 0; a < models.length; a++) {
        for (let b = a + 1; b < models.length; b++) {
          const [x, y] = [weights[a].get(spec.name)!, weights[b].get(spec.name)!];
          let d = 0;
          for (const i of coords) d += (x[i] - y[i]) ** 2;
          const want = (d * t.count) / coords.length;
          const [ia, ib] = [t.models.indexOf(a), t.models.indexOf(b)];
          const got = t.gram[ia][ia] + t.gram[ib][ib] - 2 * t.gram[ia][ib];
          expect(Math.abs(got - want)).toBeLessThan(1e-9 * (t.gram[ia][ia] + t.gram[ib][ib]));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  test('members sampled differently (kept whole, other rates, a shorter row count) are compared on the coordinates all of them kept', () => {
    // Values that name their coordinate: model m's value at (r, c) is m + r / 1000 + c / 1e6.
    const shape = [40, 100];
    const at = (m: number, r: number, c: number) => Math.fround(m + r / 1000 + c / 1e6);
    const member = (m: number, keep: number, rows = shape[0]) => {
      const s = sampleTensor(TEST_CONFIG, 'w', [rows, shape[1]], keep);
      const values = new Float32Array(s.rows.length * s.nCols);
      s.rows.forEach((r, i) => colsOfRow(s, i).forEach((c, j) => (values[i * s.nCols + j] = at(m, r, c))));
      return { name: 'w', dtype: 'F32', shape: [rows, shape[1]], ...s, values, moments: [0, 0, 0, 0] as [number, number, number, number], fakeInitSq: 0 };
    };
    const members = [member(0, 1), member(1, 1 / 4), member(2, 1 / 8), member(3, 1 / 8, 37)];
    expect(members.map((m) => m.colMode)).toEqual(['all', 'per-row', 'per-row', 'per-row']);
    const { coords, coordinates } = gatherGroup(members, 37);
    // The expected coordinates, from the samples alone: rows of the lowest rate below 37, and
    // in each the columns every member kept.
    const low = members.reduce((a, b) => (b.rowRate < a.rowRate ? b : a));
    const want: [number, number][] = [];
    for (const r of low.rows) {
      if (r >= 37) continue;
      const kept = members.map((m) => new Set(colsOfRow(m, m.rows.indexOf(r))));
      for (let c = 0; c < shape[1]; c++) if (kept.every((k) => k.has(c))) want.push([r, c]);
    }
    expect(coordinates).toBe(want.length);
    expect(want.length).toBeGreaterThan(0);
    coords.forEach((x, m) => expect(Array.from(x)).toEqual(want.map(([r, c]) => at(m, r, c))));
  });

  test.each([1, 2, 3, 4, 5, 6, 7])(`%i models: every entry equals the plain float64 sum (seed ${seed})`, (k) => {
    const some = models.slice(0, k);
    const all = estimateScan(some);
    const first = estimateScan(some, { gram: 'first-row' });
    expect(all.tensors.length).toBe(LAYOUT.length);
    for (const [ti, t] of all.tensors.entries()) {
      const fts = t.models.map((m) => some[m].fingerprint.tensors.find((x) => x.name === t.name)!);
      const { coords, coordinates } = gatherGroup(fts, t.shape[0]);
      const scale = t.count / coordinates;
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
