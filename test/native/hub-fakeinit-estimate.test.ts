/**
 * Statistics estimated from fingerprints (lib/hub/estimate.ts) against the exact scan of the
 * same real files: the fake-init distance Σ(x − r)², on which the direction scores rest. Where
 * every row of a tensor is sampled the reader sums it over each whole row, so it is exact even
 * when the kept columns are few and the columns' scales differ widely (where the kept values
 * alone are off by several percent); where rows are sampled it is estimated from Σx² over the
 * whole sampled rows plus count · E[r²].
 */
import * as path from 'path';
import { openModels } from '../../lib/io/discover';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { fingerprintModel } from '../../lib/hub/fingerprint';
import { estimateScan } from '../../lib/hub/estimate';
import type { FingerprintConfig } from '../../lib/hub/sample';
import { scanModelSet } from '../../lib/scan/scan';
import { rng, tmpDir } from '../helpers/models';

// 67,200 parameters at a budget of 8,192 (kept fraction 1/16): every row is read, 44 of its 700
// columns are kept (the tensor's share: 128 · 700 / 16 over 128 rows).
const CONFIG: FingerprintConfig = { seed: 0, wholeMax: 1024, wholeParams: 0, budget: 8192, keepMin: 1024, cols: 32 };

it('has Σ(x − r)² exact where every row is sampled, and close where rows are', async () => {
  const dir = tmpDir('np-hub-est-');
  const r = rng(5);
  const rows = 96, cols = 700;
  // Columns of very different scales (as input pixels that training never touched beside ones
  // it did): a sample of 44 columns sees their mix only roughly.
  const parent = Float32Array.from({ length: rows * cols }, (_, i) => r.normal() * (i % cols % 9 === 0 ? 0.2 : 0.01));
  const child = parent.map((x) => x * 1.05);
  for (const [id, data] of [['parent', parent], ['child', child]] as const)
    writeSafetensors(path.join(dir, `${id}.safetensors`), [{ name: 'fc.weight', dtype: 'F32', shape: [rows, cols], data }]);
  const set = await openModels([dir]);
  const exact = await scanModelSet(set, { device: 'cpu', fakeInit: 'auto' });
  const fps = await Promise.all(set.models.map(async (m) => ({ id: m.id, path: m.path, fingerprint: await fingerprintModel(m, { config: CONFIG, fakeInit: exact.fakeInit }) })));
  const t = fps[0].fingerprint.tensors[0];
  expect([t.rows.length, t.nCols, t.colMode]).toEqual([rows, 44, 'per-row']); // sampled by columns only
  const est = estimateScan(fps).tensors[0];
  const ex = exact.tensors[0];
  const [c, p] = [set.models.findIndex((m) => m.id === 'child'), set.models.findIndex((m) => m.id === 'parent')];
  const diff = (s: number[]) => s[ex.models.indexOf(c)] - s[ex.models.indexOf(p)];
  expect(Math.abs(diff(est.fakeInitSq) / diff(ex.fakeInitSq) - 1)).toBeLessThan(0.005);
  // The kept values alone (what the fingerprint stores) estimate the same difference far worse.
  const keptOnly = fps.map((f) => f.fingerprint.tensors[0].fakeInitSq * (rows * cols) / (rows * 44));
  const keptDiff = keptOnly[set.models.findIndex((m) => m.id === 'child')] - keptOnly[set.models.findIndex((m) => m.id === 'parent')];
  expect(Math.abs(keptDiff / diff(ex.fakeInitSq) - 1)).toBeGreaterThan(0.02);
  // Every row was read, so the total is the reader's sum over the whole tensor: exact up to
  // the order of summation.
  for (const m of [c, p]) expect(Math.abs(est.fakeInitSq[m] / ex.fakeInitSq[ex.models.indexOf(m)] - 1)).toBeLessThan(1e-9);
  expect(t.fakeInitWholeSq).toBeDefined();
  // Without it (a record written before the field existed) the Σx² estimate holds the
  // difference to well under a percent and the total to 2%.
  const old = fps.map((f) => ({ ...f, fingerprint: { ...f.fingerprint, tensors: f.fingerprint.tensors.map(({ fakeInitWholeSq: _, ...rest }) => rest) } }));
  const estOld = estimateScan(old).tensors[0];
  expect(Math.abs(diff(estOld.fakeInitSq) / diff(ex.fakeInitSq) - 1)).toBeLessThan(0.005);
  for (const m of [c, p]) expect(Math.abs(estOld.fakeInitSq[m] / ex.fakeInitSq[ex.models.indexOf(m)] - 1)).toBeLessThan(0.02);
});
