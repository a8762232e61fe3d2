/**
 * A resized vocabulary in the index: the scan compares the common row prefix of an embedding
 * whose row counts differ, so the estimate must take a longer member's statistics from its
 * prefix rows, not scale them from all its rows (the added rows are newly initialised and
 * unlike the rest). Kept whole, every statistic equals the exact scan's; sampled, the longer
 * member's Σx² is estimated from its prefix rows. Fresh random models each run; the added rows
 * have 10× the scale so that scaling from every row would be far off.
 */
import * as fs from 'fs';
import * as path from 'path';
import { openModels } from '../../lib/io/discover';
import { estimateScan } from '../../lib/hub/estimate';
import { fingerprintModel } from '../../lib/hub/fingerprint';
import { DEFAULT_FINGERPRINT_CONFIG } from '../../lib/hub/sample';
import { scanModelSet } from '../../lib/scan/scan';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { rng, tmpDir } from '../helpers/models';

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

describe('estimate with a resized vocabulary (row prefix)', () => {
  const seed = Number(process.env.NP_TEST_SEED ?? (Date.now() ^ (process.pid << 7)) >>> 0); // NP_TEST_SEED=N repeats a run
  const dir = tmpDir('np-hub-prefix-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function setUp(): Promise<string[]> {
    const u = rng(seed);
    // Row counts and widths that are not multiples of any block size.
    const rows = 37 + Math.floor(u.uniform() * 20);
    const extra = 5 + Math.floor(u.uniform() * 15);
    const cols = 19 + Math.floor(u.uniform() * 30);
    const base = Float32Array.from({ length: rows * cols }, () => 0.05 * u.normal());
    const fc = Float32Array.from({ length: 23 * cols }, () => 0.1 * u.normal());
    const files: string[] = [];
    const write = (name: string, emb: Float32Array, embRows: number, w: Float32Array) => {
      const f = path.join(dir, `${name}.safetensors`);
      writeSafetensors(f, [
        { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [embRows, cols], data: emb },
        { name: 'fc.weight', dtype: 'F32', shape: [23, cols], data: w },
      ]);
      files.push(f);
    };
    write('a-parent', base, rows, fc);
    // The child: the parent's rows nudged, plus `extra` new rows at 10× the scale.
    const child = new Float32Array((rows + extra) * cols);
    for (let i = 0; i < rows * cols; i++) child[i] = base[i] + 0.002 * u.normal();
    for (let i = rows * cols; i < child.length; i++) child[i] = 0.5 * u.normal();
    write('b-child', child, rows + extra, Float32Array.from(fc, (v) => v + 0.003 * u.normal()));
    // A second child with the original vocabulary.
    write('c-child', Float32Array.from(base, (v) => v + 0.002 * u.normal()), rows, Float32Array.from(fc, (v) => v + 0.001 * u.normal()));
    return files;
  }

  test(`kept whole, every statistic of the prefix group equals the exact scan's (seed ${seed})`, async () => {
    const set = await openModels(await setUp());
    const exact = await scanModelSet(set);
    const config = { ...DEFAULT_FINGERPRINT_CONFIG, seed: exact.seed };
    const models = await Promise.all(set.models.map(async (m) => ({ id: m.id, path: m.path, fingerprint: await fingerprintModel(m, { config, fakeInit: exact.fakeInit }) })));
    const est = estimateScan(models);
    const eg = exact.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    const sg = est.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    expect(eg.rowPrefix).toBeDefined();
    expect(sg.rowPrefix).toEqual(eg.rowPrefix);
    for (const key of ['sum', 'sumSq', 'sumCube', 'sumQuad', 'fakeInitSq'] as const) {
      eg[key].forEach((v, i) => expect({ key, i, ok: close(v, sg[key][i], 1e-9) }).toEqual({ key, i, ok: true }));
    }
    eg.gram.forEach((row, i) => row.forEach((v, j) => expect({ i, j, ok: close(v, sg.gram[i][j], 1e-9) }).toEqual({ i, j, ok: true })));
  });

  test(`sampled, the longer member's Σx² comes from its prefix rows (seed ${seed})`, async () => {
    const set = await openModels(fs.readdirSync(dir).map((f) => path.join(dir, f)));
    const exact = await scanModelSet(set);
    // A budget that keeps 1/8 of each model: rows sampled, columns per row.
    const config = { ...DEFAULT_FINGERPRINT_CONFIG, seed: exact.seed, budget: 256, keepMin: 64, wholeMax: 16, wholeParams: 0, cols: 8 };
    const models = await Promise.all(set.models.map(async (m) => ({ id: m.id, path: m.path, fingerprint: await fingerprintModel(m, { config, fakeInit: exact.fakeInit }) })));
    const emb = models[1].fingerprint.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    expect(emb.colMode).not.toBe('all');
    const est = estimateScan(models);
    const eg = exact.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    const sg = est.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    // Scaled from every row, the 10× added rows would put Σx² several times too high.
    const i = eg.models.indexOf(1);
    expect(sg.sumSq[i] / eg.sumSq[i]).toBeGreaterThan(0.5);
    expect(sg.sumSq[i] / eg.sumSq[i]).toBeLessThan(1.6);
  });
});
