/**
 * The native fingerprint reader against the float64 TypeScript reference on random files
 * (every float dtype, sizes that are not multiples of anything, safetensors and PyTorch .bin),
 * the sampling's invariants (same rows and per-row columns for every model with a tensor,
 * nested across row counts; the column draw against a plain reference), and the size and read
 * budget on a 7B-shaped tensor list.
 */
import * as path from 'path';
import { openModels } from '../../lib/io/discover';
import { writeTorchCheckpoint } from '../../lib/io/torch-writer';
import { fingerprintModel, fingerprintPlan, nativeReadFingerprint } from '../../lib/hub/fingerprint';
import { referenceFingerprint } from '../../lib/hub/reference';
import { readTensorValues } from '../../lib/io/tensor-data';
import { fakeInitValue } from '../../lib/scan/philox';
import { defaultFakeInit } from '../../lib/scan/default-init';
import { colsOfRow, DEFAULT_FINGERPRINT_CONFIG, FingerprintConfig, keepRateFor, probeConfigOf, rowColumnKey, rowColumns, sampleKeys, sampleTensor, unitHash } from '../../lib/hub/sample';
import { rng, tmpDir, writeRandomModel } from '../helpers/models';
import type { FloatDtype } from '../../lib/io/dtype';

const SMALL: FingerprintConfig = { seed: 3, wholeMax: 50, wholeParams: 0, budget: 128, keepMin: 20, cols: 5 };

describe('native fingerprint reader', () => {
  const dtypes: FloatDtype[] = ['F32', 'F16', 'BF16', 'F64'];
  it.each(dtypes)('matches the float64 reference exactly (%s, odd shapes)', async (dtype) => {
    const dir = tmpDir();
    const file = path.join(dir, `m-${dtype}.safetensors`);
    writeRandomModel(file, [
      { name: 'a.weight', shape: [97, 13], dtype },
      { name: 'b.weight', shape: [7], dtype },
      { name: 'c.bias', shape: [301], dtype },
      { name: 'd.weight', shape: [33, 3, 5], dtype },
      { name: 'e', shape: [], dtype },
    ], 11);
    const set = await openModels([file]);
    const fake = defaultFakeInit({ models: set.models, warnings: [] }).spec;
    for (const [coalesce, threads] of [[0, 1], [64 * 1024, 3]]) {
      const planned = fingerprintPlan(set.models[0], SMALL, fake);
      const plan = { ...planned.plan, coalesceBytes: coalesce, threads };
      const got = await nativeReadFingerprint(plan);
      const want = referenceFingerprint(plan);
      expect(Array.from(got.values)).toEqual(Array.from(want.values));
      expect(Array.from(got.moments)).toEqual(Array.from(want.moments));
      expect(Array.from(got.fakeSq)).toEqual(Array.from(want.fakeSq));
      expect(Array.from(got.fakeWholeSq)).toEqual(Array.from(want.fakeWholeSq));
      expect(want.fakeSq.every((x) => x > 0)).toBe(true);
      // Coalescing reads the gaps too, never less than the rows.
      expect(got.bytesRead).toBeGreaterThanOrEqual(want.bytesRead);
      if (coalesce === 0) expect(got.bytesRead).toBe(want.bytesRead);
    }
  });

  // NP_TEST_SEED=N repeats a failing run.
  const fresh = Number(process.env.NP_TEST_SEED ?? (Date.now() ^ (process.pid << 12)) >>> 0);
  it(`matches the reference on fresh random shapes and configs, per-row columns (seed ${fresh})`, async () => {
    const u = rng(fresh);
    const int = (lo: number, hi: number) => lo + Math.floor(u.uniform() * (hi - lo + 1));
    const dir = tmpDir();
    const dtypes: FloatDtype[] = ['F32', 'F16', 'BF16', 'F64'];
    // Some draws keep every column of every tensor (a budget near the model's size, or rows no
    // longer than twice the kept columns); redraw from the same stream until one samples
    // columns per row, the path this case exists for.
    const draw = async (attempt: number) => {
      const file = path.join(dir, `fresh-${attempt}.safetensors`);
      const specs = Array.from({ length: int(2, 5) }, (_, i) => ({
        name: `t${i}.weight`, dtype: dtypes[int(0, 3)],
        shape: u.uniform() < 0.3 ? [int(40, 211), int(2, 5), int(3, 9)] : [int(40, 301), int(3, 97)],
      }));
      writeRandomModel(file, specs, fresh + attempt);
      const config: FingerprintConfig = { seed: int(0, 1000), wholeMax: int(10, 60), wholeParams: int(0, 1) * int(0, 3000), budget: int(64, 400), keepMin: int(8, 40), cols: int(1, 9) };
      const model = (await openModels([file])).models[0];
      const planned = fingerprintPlan(model, config, defaultFakeInit({ models: [model], warnings: [] }).spec);
      return { config, model, planned };
    };
    let drawn = await draw(0);
    for (let attempt = 1; attempt < 50 && !drawn.planned.plan.tensors.some((t) => t.colsPerRow); attempt++) drawn = await draw(attempt);
    const { config, model, planned } = drawn;
    expect(planned.plan.tensors.some((t) => t.colsPerRow)).toBe(true);
    const plan = { ...planned.plan, coalesceBytes: int(0, 3000), threads: int(1, 6) };
    const got = await nativeReadFingerprint(plan);
    const want = referenceFingerprint(plan);
    expect(Array.from(got.values)).toEqual(Array.from(want.values));
    expect(Array.from(got.moments)).toEqual(Array.from(want.moments));
    expect(Array.from(got.fakeSq)).toEqual(Array.from(want.fakeSq));
    expect(Array.from(got.fakeWholeSq)).toEqual(Array.from(want.fakeWholeSq));
    // The fingerprint keeps what the reader summed.
    const fp = await fingerprintModel(model, { config });
    expect(fp.tensors.map((t) => t.fakeInitSq)).toEqual(Array.from(want.fakeSq));
  });

  it('sums Σ(x − r)² over the whole tensor when every row is sampled, and only then', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'wide.safetensors');
    // Few long rows (every row sampled, a few columns each kept) beside a tall tensor (rows sampled).
    writeRandomModel(file, [
      { name: 'wide.weight', shape: [6, 517], dtype: 'BF16' },
      { name: 'tall.weight', shape: [403, 9], dtype: 'F32' },
    ], 5);
    const model = (await openModels([file])).models[0];
    const fake = defaultFakeInit({ models: [model], warnings: [] }).spec;
    const config: FingerprintConfig = { seed: 1, wholeMax: 10, wholeParams: 0, budget: 256, keepMin: 16, cols: 4 };
    const planned = fingerprintPlan(model, config, fake);
    const got = await nativeReadFingerprint({ ...planned.plan, threads: 2 });
    const want = referenceFingerprint(planned.plan);
    expect(Array.from(got.fakeWholeSq)).toEqual(Array.from(want.fakeWholeSq));
    const byName = new Map(planned.plan.tensors.map((t, i) => [model.tensors.find((e) => e.offset === t.offset)!.name, { t, i }]));
    const wide = byName.get('wide.weight')!;
    const tall = byName.get('tall.weight')!;
    expect(wide.t.rows.length).toBe(6);
    expect(wide.t.cols.length).toBeLessThan(6 * 517);
    expect(tall.t.rows.length).toBeLessThan(403);
    expect(Number.isNaN(got.fakeWholeSq[tall.i])).toBe(true);
    // Against a plain sum over every element of the tensor (float64, element order).
    const x = await readTensorValues(model.tensors.find((e) => e.name === 'wide.weight')!);
    let s = 0;
    for (let e = 0; e < x.length; e++) s += (x[e] - fakeInitValue(wide.t.fake!, e)) ** 2;
    expect(got.fakeWholeSq[wide.i]).toBeCloseTo(s, 6);
    const fp = await fingerprintModel(model, { config, fakeInit: fake });
    expect(fp.tensors.find((t) => t.name === 'wide.weight')!.fakeInitWholeSq).toBe(got.fakeWholeSq[wide.i]);
    expect(fp.tensors.find((t) => t.name === 'tall.weight')!.fakeInitWholeSq).toBeUndefined();
  });

  it('refuses per-row columns that are out of order, out of range or uneven', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'm.safetensors');
    writeRandomModel(file, [{ name: 'w', shape: [10, 10], dtype: 'F32' }], 1);
    const t = { file: 0, offset: 8, dtype: 'F32', totalRows: 10, rowLen: 10, rows: Uint32Array.of(1, 4), colsPerRow: true };
    const offset = (await openModels([file])).models[0].tensors[0].offset;
    const plan = (cols: Uint32Array) => ({ files: [file], tensors: [{ ...t, offset, cols }] });
    await expect(nativeReadFingerprint(plan(Uint32Array.of(0, 5, 3, 2)))).rejects.toThrow(/ascending/);
    await expect(nativeReadFingerprint(plan(Uint32Array.of(0, 5, 3, 10)))).rejects.toThrow(/in range/);
    await expect(nativeReadFingerprint(plan(Uint32Array.of(0, 5, 3)))).rejects.toThrow(/same count/);
    // Malformed plan fields are refused before anything is read.
    const bad = (extra: object) => nativeReadFingerprint({ ...plan(Uint32Array.of(0, 5, 2, 9)), ...extra } as never);
    await expect(bad({ threads: -1 })).rejects.toThrow(/threads/);
    await expect(bad({ threads: 1e9 })).rejects.toThrow(/threads/);
    const tensor = (extra: object) => ({ files: [file], tensors: [{ ...t, offset, cols: Uint32Array.of(0, 5, 2, 9), ...extra }] }) as never;
    await expect(nativeReadFingerprint(tensor({ colsPerRow: 'yes' }))).rejects.toThrow(/colsPerRow/);
    await expect(nativeReadFingerprint(tensor({ fake: 3 }))).rejects.toThrow(/fake/);
    await expect(nativeReadFingerprint(tensor({ fake: { kind: 7, a: 0, b: 1, key0: 0, key1: 0 } }))).rejects.toThrow(/kind/);
    const ok = await nativeReadFingerprint(plan(Uint32Array.of(0, 5, 2, 9)));
    expect(Array.from(ok.values)).toEqual(Array.from(referenceFingerprint(plan(Uint32Array.of(0, 5, 2, 9))).values));
  });

  it('reads PyTorch .bin checkpoints the same as safetensors with the same weights', async () => {
    const dir = tmpDir();
    const r = rng(5);
    const tensors = [
      { name: 'x.weight', dtype: 'F32' as const, shape: [129, 17], data: Float32Array.from({ length: 129 * 17 }, () => r.normal()) },
      { name: 'x.bias', dtype: 'F32' as const, shape: [129], data: Float32Array.from({ length: 129 }, () => r.normal()) },
    ];
    writeTorchCheckpoint(path.join(dir, 'a.bin'), tensors);
    const { writeSafetensors } = await import('../../lib/io/safetensors-writer');
    writeSafetensors(path.join(dir, 'a.safetensors'), tensors);
    const a = await fingerprintModel((await openModels([path.join(dir, 'a.bin')])).models[0], { config: SMALL });
    const b = await fingerprintModel((await openModels([path.join(dir, 'a.safetensors')])).models[0], { config: SMALL });
    expect(a.tensors.map((t) => Array.from(t.values))).toEqual(b.tensors.map((t) => Array.from(t.values)));
    expect(a.tensors.map((t) => t.moments)).toEqual(b.tensors.map((t) => t.moments));
    const ref = referenceFingerprint(fingerprintPlan((await openModels([path.join(dir, 'a.bin')])).models[0], SMALL).plan);
    expect(Array.from(a.tensors.flatMap((t) => Array.from(t.values)))).toEqual(Array.from(ref.values));
  });

  it('refuses a plan whose rows run past the file, naming it', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'm.safetensors');
    writeRandomModel(file, [{ name: 'w', shape: [10, 10], dtype: 'F32' }], 1);
    const bad = { files: [file], tensors: [{ file: 0, offset: 8, dtype: 'F32', totalRows: 1000, rowLen: 10, rows: Uint32Array.of(0), cols: Uint32Array.of(0) }] };
    await expect(nativeReadFingerprint(bad)).rejects.toThrow(/m\.safetensors|past the end/);
    const unsorted = { files: [file], tensors: [{ file: 0, offset: 8, dtype: 'F32', totalRows: 10, rowLen: 10, rows: Uint32Array.of(3, 1), cols: Uint32Array.of(0) }] };
    await expect(nativeReadFingerprint(unsorted)).rejects.toThrow(/ascending/);
  });
});

describe('fingerprint sampling', () => {
  it('gives every model with a tensor the same rows, nested across row counts', () => {
    const c = DEFAULT_FINGERPRINT_CONFIG;
    const a = sampleTensor(c, 'model.embed_tokens.weight', [32000, 4096], 2 ** -15);
    const b = sampleTensor(c, 'model.embed_tokens.weight', [32000, 4096], 2 ** -15);
    expect(Array.from(a.rows)).toEqual(Array.from(b.rows));
    const big = sampleTensor(c, 'model.embed_tokens.weight', [49953, 4096], 2 ** -15);
    // Lower rate rows ⊂ higher rate rows, over the common prefix.
    const low = a.rowRate <= big.rowRate ? a : big;
    const high = low === a ? big : a;
    const highSet = new Set(high.rows);
    for (const r of low.rows) if (r < 32000) expect(highSet.has(r)).toBe(true);
    // Each row keeps columns of its own, the same in both models wherever both sampled it.
    expect(a.colMode).toBe('per-row');
    const bigAt = new Map(Array.from(big.rows, (r, i) => [r, i]));
    let shared = 0;
    a.rows.forEach((r, i) => {
      const j = bigAt.get(r);
      if (j === undefined) return;
      shared++;
      expect(Array.from(colsOfRow(a, i))).toEqual(Array.from(colsOfRow(big, j)));
    });
    expect(shared).toBeGreaterThan(0);
    const distinct = new Set(Array.from(a.rows, (_, i) => colsOfRow(a, i).join(',')));
    expect(distinct.size).toBe(a.rows.length);
  });

  it('draws each row\'s columns as the plain reference does, uniformly over the row', () => {
    // The reference: the same hash sequence, a Set for repeats, sorted at the end.
    const reference = (colKey: number, r: number, rowLen: number, k: number): number[] => {
      const key = rowColumnKey(colKey, r);
      const picked = new Set<number>();
      for (let j = 0; picked.size < k; j++) picked.add(Math.floor(unitHash(key, j) * rowLen));
      return [...picked].sort((x, y) => x - y);
    };
    const seed = (Date.now() ^ process.pid) >>> 0;
    const u = rng(seed);
    for (let trial = 0; trial < 200; trial++) {
      const rowLen = 2 + Math.floor(u.uniform() * 700);
      const k = 1 + Math.floor(u.uniform() * Math.floor(rowLen / 2));
      const colKey = Math.floor(u.uniform() * 2 ** 32);
      const r = Math.floor(u.uniform() * 100000);
      const out = new Uint32Array(k + 3);
      rowColumns(colKey, r, rowLen, k, out, 3);
      expect({ seed, rowLen, k, cols: Array.from(out.subarray(3)) }).toEqual({ seed, rowLen, k, cols: reference(colKey, r, rowLen, k) });
      // Fewer columns of the same row: a subset.
      const fewer = new Uint32Array(Math.max(1, k >> 1));
      rowColumns(colKey, r, rowLen, fewer.length, fewer, 0);
      const all = new Set(out.subarray(3));
      for (const c of fewer) expect(all.has(c)).toBe(true);
    }
    expect(() => rowColumns(1, 2, 9, 5, new Uint32Array(5), 0)).toThrow(/more than half/);
    // Over many rows every column is kept about equally often (k / rowLen of the rows).
    const rowLen = 97;
    const k = 8;
    const hits = new Float64Array(rowLen);
    const { colKey } = sampleKeys(0, 'fc.weight', [5000, rowLen]);
    const out = new Uint32Array(k);
    for (let r = 0; r < 5000; r++) {
      rowColumns(colKey, r, rowLen, k, out, 0);
      for (const c of out) hits[c]++;
    }
    const want = (5000 * k) / rowLen;
    for (const h of hits) expect(Math.abs(h - want)).toBeLessThan(5 * Math.sqrt(want));
  });

  it('keeps a tensor\'s share of the budget when every row is sampled (more columns per row)', () => {
    // mnist-fc's fc1 in a probe (the default keeps the model whole): 51k parameters keep 1/8,
    // all 64 rows are sampled.
    const c = probeConfigOf(DEFAULT_FINGERPRINT_CONFIG);
    const keep = keepRateFor(c, 64 * 784 + 64 + 640 + 10);
    expect(keep).toBe(1 / 8);
    const s = sampleTensor(c, 'fc1.weight', [64, 784], keep);
    expect([s.rowRate, s.rows.length, s.colMode, s.nCols]).toEqual([1, 64, 'per-row', 98]);
    // Rows of 150 at 1/2: 75 columns is half the row, kept per row; 76 would be whole rows.
    expect(sampleTensor({ ...c, keepMin: 1 }, 'w', [64, 150], 1 / 2).nCols).toBe(75);
    expect(sampleTensor({ ...c, keepMin: 1 }, 'w', [64, 151], 1 / 2)).toMatchObject({ colMode: 'all', nCols: 151 });
  });

  it('samples every row of a tensor that would sample more than half of them, and no more than that', () => {
    const c = probeConfigOf(DEFAULT_FINGERPRINT_CONFIG);
    // mnist-cnn's conv2 (16 rows of 72 = 1,152 > wholeMax) in a 9k-parameter model (kept 1/2):
    // keepMin asks for 15 of 16 rows, so all 16 are read and the tensor is kept whole.
    expect(keepRateFor(c, 80 + 1168 + 7850)).toBe(1 / 2);
    const conv2 = sampleTensor(c, 'conv2.weight', [16, 8, 3, 3], 1 / 2);
    expect([conv2.rowRate, conv2.rows.length, conv2.colMode]).toEqual([1, 16, 'all']);
    // At exactly half (tiny-llama's k_proj, 64 × 64 at 1/32) rows stay sampled.
    const k = sampleTensor(c, 'model.layers.0.self_attn.k_proj.weight', [64, 64], 1 / 32);
    expect(k.rowRate).toBe(0.5);
    expect(k.rows.length).toBeLessThan(64);
    // Just above half (66 of 128 rows at 40 columns): every row; below half: unchanged.
    expect(sampleTensor({ ...c, keepMin: 1 }, 'w', [100, 40], 0.51).rowRate).toBe(1);
    expect(sampleTensor({ ...c, keepMin: 1 }, 'w', [1000, 200], 0.05).rowRate).toBe(320 / 1024);
  });

  it('keeps the zoo presets\' models whole by default, so their estimates are exact', () => {
    const c = DEFAULT_FINGERPRINT_CONFIG;
    // mnist-cnn (9,098), mnist-fc and the regimes MLP (50,890), tiny-llama (133,440 parameters).
    for (const params of [9098, 50890, 133440, 2 ** 18]) expect(keepRateFor(c, params)).toBe(1);
    // Beyond wholeParams, the budget's fraction: 2^-⌈log2(params / 8192)⌉.
    expect(keepRateFor(c, 2 ** 18 + 1)).toBe(1 / 64);
    expect(keepRateFor(c, 10 * 2 ** 18)).toBe(1 / 512);
    // Their probes sample at the budget.
    expect(keepRateFor(probeConfigOf(c), 50890)).toBe(1 / 8);
    expect(keepRateFor(probeConfigOf(c), 8192)).toBe(1);
  });

  it('keeps a 7B LLaMA-shaped model under 2 MB and reads under 2% of it', () => {
    const c = DEFAULT_FINGERPRINT_CONFIG;
    const shapes: number[][] = [[32000, 4096], [32000, 4096], [4096]];
    for (let l = 0; l < 32; l++) shapes.push([4096, 4096], [4096, 4096], [4096, 4096], [4096, 4096], [11008, 4096], [11008, 4096], [4096, 11008], [4096], [4096]);
    const params = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    const keepRate = keepRateFor(c, params);
    expect(keepRate).toBeLessThan(2 ** -14);
    let kept = 0;
    let read = 0;
    let total = 0;
    for (const [i, s] of shapes.entries()) {
      const sample = sampleTensor(c, `t${i}`, s, keepRate);
      const rowLen = s.length > 1 ? s[1] : 1;
      // The record stores rows and values; the columns follow from the rows (codec.ts).
      kept += sample.rows.length * sample.nCols * 4 + sample.rows.length * 4;
      read += sample.rows.length * rowLen;
      total += s.reduce((a, b) => a * b, 1);
    }
    expect(kept).toBeLessThan(2 * 1024 * 1024);
    expect(read / total).toBeLessThan(0.02);
  });
});
