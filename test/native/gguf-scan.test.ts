/**
 * GGUF in the scan: a llama checkpoint converted to GGUF (names mapped, q/k rows interleaved
 * per head as llama.cpp's converter does) is read back in Hugging Face names and row order.
 * An F32 GGUF scans bit for bit like the safetensors it came from; Q8_0/Q4_K tensors are
 * dequantized in the scan to exactly the values of the TypeScript reference dequantizers; the
 * native scan agrees with the float64 reference at chunk sizes that cut rows and blocks. The
 * same child split over three files as llama.cpp's gguf-split does scans bit for bit like the
 * child written as one file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DtypeError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { convertLlamaToGguf, ggufTypeFor } from '../../lib/io/gguf-from-hf';
import { GgufSplitOptions, writeGguf, llamaMetadata } from '../../lib/io/gguf-writer';
import { readGgufTensors } from '../../lib/io/gguf-tensors';
import { formatInspect, inspectModel } from '../../lib/io/inspect';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { readTensorValues } from '../../lib/io/tensor-data';
import type { ModelSet } from '../../lib/io/types';
import { alignModels } from '../../lib/scan/align';
import { buildPlan } from '../../lib/scan/plan';
import { referenceScan } from '../../lib/scan/reference';
import { runNativePlan, scanModelSet } from '../../lib/scan/scan';
import type { ScanResult } from '../../lib/scan/types';
import { rng, tmpDir } from '../helpers/models';
import { CFG, SHAPES } from './llama-gguf-shapes';


let dir: string;
function writeHf(id: string, seed: number, base?: Map<string, Float32Array>): Map<string, Float32Array> {
  const d = path.join(dir, 'st', id);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(CFG));
  const r = rng(seed);
  const values = new Map<string, Float32Array>();
  writeSafetensors(
    path.join(d, 'model.safetensors'),
    SHAPES.map(([name, shape]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const b = base?.get(name);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = (b ? b[i] : shape.length === 1 ? 1 : 0) + (b ? 0.01 : 0.05) * r.normal();
      values.set(name, v);
      return { name, dtype: 'F32' as const, shape, data: v };
    }),
  );
  return values;
}

/** A set of the parent (safetensors) and the child converted to GGUF `type` in its own folder. */
async function withGgufChild(type: 'F32' | 'Q8_0' | 'Q4_K'): Promise<ModelSet> {
  const set = path.join(dir, `set-${type}`);
  if (!fs.existsSync(set)) {
    fs.mkdirSync(path.join(set, 'child'), { recursive: true });
    fs.cpSync(path.join(dir, 'st', 'parent'), path.join(set, 'parent'), { recursive: true });
    fs.copyFileSync(path.join(dir, 'st', 'child', 'config.json'), path.join(set, 'child', 'config.json'));
    const child = (await openModels([path.join(dir, 'st', 'child')])).models[0];
    convertLlamaToGguf(child, path.join(set, 'child', 'model.gguf'), type);
  }
  return openModels([set]);
}

/**
 * The parent (safetensors) beside the child converted to GGUF `type`, as one file or split: in
 * its own folder (`model.gguf` / `model-0000i-of-0000N.gguf`, config.json beside), or as files
 * of the set (`child.gguf` / `child-0000i-of-0000N.gguf`).
 */
async function ggufChildAs(name: string, type: 'Q8_0' | 'Q4_K', layout: 'dir' | 'file', split?: GgufSplitOptions): Promise<ModelSet> {
  const set = path.join(dir, name);
  fs.mkdirSync(set, { recursive: true });
  fs.cpSync(path.join(dir, 'st', 'parent'), path.join(set, 'parent'), { recursive: true });
  const child = (await openModels([path.join(dir, 'st', 'child')])).models[0];
  let out = path.join(set, 'child.gguf');
  if (layout === 'dir') {
    fs.mkdirSync(path.join(set, 'child'));
    fs.copyFileSync(path.join(dir, 'st', 'child', 'config.json'), path.join(set, 'child', 'config.json'));
    out = path.join(set, 'child', 'model.gguf');
  }
  convertLlamaToGguf(child, out, type, split);
  return openModels([set]);
}

beforeAll(() => {
  dir = tmpDir('np-gguf-scan-');
  const p = writeHf('parent', 1);
  writeHf('child', 2, p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function statsOf(r: ScanResult) {
  return r.tensors.map((t) => ({ name: t.name, shape: t.shape, count: t.count, sum: t.sum, sumSq: t.sumSq, sumCube: t.sumCube, sumQuad: t.sumQuad, fakeInitSq: t.fakeInitSq, gram: t.gram }));
}

test('GGUF tensors come back in Hugging Face names and shapes, with their ggml types and q/k heads', async () => {
  const set = await withGgufChild('Q4_K');
  const child = set.models.find((m) => m.id === 'child')!;
  expect(child.weightFormats).toEqual(['gguf']);
  const byName = new Map(child.tensors.map((t) => [t.name, t]));
  expect([...byName.keys()].sort()).toEqual(SHAPES.map(([n]) => n).sort());
  for (const [name, shape] of SHAPES) expect(byName.get(name)!.shape).toEqual(shape);
  expect(byName.get('model.layers.0.self_attn.q_proj.weight')!.dtype).toBe('Q4_K');
  expect(byName.get('model.layers.0.self_attn.q_proj.weight')!.gguf).toEqual({ rowElems: 256, rows: 256, permHeads: 4 });
  expect(byName.get('model.layers.0.self_attn.k_proj.weight')!.gguf!.permHeads).toBe(2);
  expect(byName.get('model.layers.0.self_attn.v_proj.weight')!.gguf!.permHeads).toBe(0);
  expect(byName.get('model.norm.weight')!.dtype).toBe('F32');
});

test('an F32 GGUF child scans bit for bit like the safetensors it was converted from', async () => {
  const gg = await withGgufChild('F32');
  const st = await openModels([path.join(dir, 'st')]);
  const a = await scanModelSet(gg, { device: 'cpu', chunkMb: 0.01 });
  const b = await scanModelSet(st, { device: 'cpu', chunkMb: 0.01 });
  expect(a.tensors.length).toBe(SHAPES.length);
  expect(statsOf(a)).toEqual(statsOf(b));
  // The check bites: the GGUF q rows as stored (permutation not undone) differ from the HF rows.
  const q = gg.models.find((m) => m.id === 'child')!.tensors.find((t) => t.name.endsWith('q_proj.weight'))!;
  const stored = readTensorValues({ ...q, gguf: { ...q.gguf!, permHeads: 0 } });
  const hf = readTensorValues(q);
  expect(Buffer.from(stored.buffer).equals(Buffer.from(hf.buffer))).toBe(false);
  expect([...stored].sort()).toEqual([...hf].sort());
});

test.each(['Q8_0', 'Q4_K'] as const)('%s: the scan dequantizes exactly the TS reference values, in HF row order', async (type) => {
  const gg = await withGgufChild(type);
  const child = gg.models.find((m) => m.id === 'child')!;
  // The reference model: every child tensor dequantized by lib/io/gguf-quant-ref.ts (rows put
  // back in HF order in TypeScript) and stored as F32 safetensors.
  const refDir = path.join(dir, `ref-${type}`);
  fs.mkdirSync(refDir, { recursive: true });
  writeSafetensors(path.join(refDir, 'ref.safetensors'), child.tensors.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: readTensorValues(t) })));
  const ref = (await openModels([refDir])).models[0];
  const set: ModelSet = { models: [child, ref], warnings: [] };
  const r = await scanModelSet(set, { device: 'cpu', chunkMb: 0.005, threads: 2 });
  expect(r.tensors.length).toBe(SHAPES.length);
  for (const t of r.tensors) {
    expect([t.sum[0], t.sumSq[0], t.sumCube[0], t.sumQuad[0], t.fakeInitSq[0]]).toEqual([t.sum[1], t.sumSq[1], t.sumCube[1], t.sumQuad[1], t.fakeInitSq[1]]);
    expect(t.gram[0][0]).toBe(t.gram[1][1]);
    expect(t.gram[0][1]).toBe(t.gram[1][1]);
  }
  // Quantized, not copied: the child's weights differ from the float originals.
  const orig = (await openModels([path.join(dir, 'st', 'child')])).models[0];
  const q = child.tensors.find((t) => t.name.endsWith('q_proj.weight'))!;
  expect(q.dtype).toBe(type);
  const a = readTensorValues(q), o = readTensorValues(orig.tensors.find((t) => t.name === q.name)!);
  let err = 0, norm = 0;
  for (let i = 0; i < a.length; i++) { err += (a[i] - o[i]) ** 2; norm += o[i] ** 2; }
  expect(err).toBeGreaterThan(0);
  expect(Math.sqrt(err / norm)).toBeLessThan(type === 'Q8_0' ? 0.01 : 0.1); // the rows match: small relative error
});

test('the native scan of GGUF members agrees with the float64 reference at every chunk size and thread count', async () => {
  const gg = await withGgufChild('Q4_K');
  const q8 = (await withGgufChild('Q8_0')).models.find((m) => m.id === 'child')!;
  const models = [...gg.models, { ...q8, id: 'child-q8' }];
  const { groups } = alignModels(models);
  for (const [chunkBytes, threads] of [[4096 * 3 + 4, 1], [2 << 20, 2]] as const) {
    const { plan } = buildPlan(groups, { seed: 3, fakeInit: 'hf(0.02)', chunkBytes, threads });
    expect(plan.groups.some((g) => g.members.some((m) => m.gguf))).toBe(true);
    const out = await runNativePlan(plan);
    const ref = referenceScan(plan);
    for (let i = 0; i < ref.values.length; i++) expect(Math.abs(out.values[i] - ref.values[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.values[i])));
  }
});

test('unsupported GGUF types are left out with the reason by default, and refused naming the tensor with strictDtypes', async () => {
  const d = path.join(dir, 'q81');
  fs.mkdirSync(d, { recursive: true });
  writeGguf(path.join(d, 'odd.gguf'), {
    metadata: llamaMetadata({ blockCount: 1, embeddingLength: 32, feedForwardLength: 64, headCount: 2 }),
    tensors: [
      { name: 'blk.0.ffn_up.weight', type: 'Q8_1', dims: [32, 2], data: new Uint8Array(72) },
      { name: 'output_norm.weight', type: 'F32', dims: [32], data: new Float32Array(32).fill(1) },
    ],
  });
  const set = await openModels([path.join(d, 'odd.gguf')]);
  expect(set.models[0].id).toBe('odd');
  await expect(scanModelSet(set, { device: 'cpu', strictDtypes: true })).rejects.toThrow(DtypeError);
  await expect(scanModelSet(set, { device: 'cpu', strictDtypes: true })).rejects.toThrow(/model\.layers\.0\.mlp\.up_proj\.weight.*Q8_1/);
  const r = await scanModelSet(set, { device: 'cpu' });
  expect(r.tensors.map((t) => t.name)).toEqual(['model.norm.weight']);
  expect(r.skipped).toEqual([{ model: 'odd', tensor: 'model.layers.0.mlp.up_proj.weight', reason: 'dtype Q8_1 has no dequantizer' }]);
});

test('other architectures keep their GGUF names, with a note', async () => {
  const f = path.join(dir, 'gpt2.gguf');
  writeGguf(f, { metadata: { 'general.architecture': { type: 'string', value: 'gpt2' } }, tensors: [{ name: 'blk.0.attn_qkv.weight', type: 'F16', dims: [32, 96], data: new Float32Array(96 * 32) }] });
  const list = await readGgufTensors(f);
  expect(list.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([['blk.0.attn_qkv.weight', 'F16', [96, 32]]]);
  expect(list.warnings[0]).toMatch(/architecture 'gpt2' keeps its GGUF tensor names/);
});

test('the converter falls back from a K-quant where rows are not whole 256-blocks', () => {
  expect(ggufTypeFor('Q4_K', [64, 256])).toBe('Q4_K');
  expect(ggufTypeFor('Q4_K', [64, 96])).toBe('Q4_0');
  expect(ggufTypeFor('Q4_K', [64, 176])).toBe('F16');
  expect(ggufTypeFor('Q8_0', [64, 176])).toBe('F16');
  expect(ggufTypeFor('Q8_0', [176])).toBe('F32');
});

test('inspect names the GGUF weights and their types', async () => {
  await withGgufChild('Q4_K');
  const report = await inspectModel(path.join(dir, 'set-Q4_K', 'child'));
  const text = formatInspect(report);
  expect(text).toMatch(/^model child \(hf, gguf\)/);
  expect(text).toMatch(/weights: gguf Q4_K×9, F32×3/);
});

// llama.cpp's gguf-split layout (the first file all the metadata, every file its run of
// tensors and the split keys): one model whose tensors come from three files, q/k rows
// un-permuted with the first file's head counts, every statistic and Gram entry equal. In
// the second case the first file holds only metadata (gguf-split --no-tensor-first-split), so
// q and k live in a file without head counts and their Gram entries with the parent (HF row
// order) only match if the first file's counts were applied.
test.each([
  ['Q8_0', 'dir', false],
  ['Q4_K', 'file', true],
] as const)('%s split into 3 files (%s layout, metadata-only first file: %s) scans bit for bit like the same model in one file', async (type, layout, metadataOnlyFirst) => {
  const one = await ggufChildAs(`one-${type}`, type, layout);
  const split = await ggufChildAs(`split-${type}`, type, layout, { files: 3, metadataOnlyFirst });
  expect(split.warnings).toEqual(one.warnings);
  const child = split.models.find((m) => m.id === 'child')!;
  expect(split.models.map((m) => m.id)).toEqual(['child', 'parent']);
  expect(child.files.map((f) => path.basename(f))).toEqual(['-00001-of-00003.gguf', '-00002-of-00003.gguf', '-00003-of-00003.gguf'].map((s) => `${layout === 'dir' ? 'model' : 'child'}${s}`));
  expect(child.ggufSplit).toEqual({ files: 3 });
  expect(new Set(child.tensors.map((t) => t.file)).size).toBe(metadataOnlyFirst ? 2 : 3);
  const q = child.tensors.find((t) => t.name.endsWith('q_proj.weight'))!;
  if (metadataOnlyFirst) expect(q.file).not.toBe(child.files[0]);
  expect(q.gguf!.permHeads).toBe(4);
  const single = one.models.find((m) => m.id === 'child')!;
  const strip = (m: typeof child) => m.tensors.map((t) => ({ ...t, file: '', offset: 0 }));
  expect(strip(child)).toEqual(strip(single));
  const a = await scanModelSet(split, { device: 'cpu', chunkMb: 0.01 });
  const b = await scanModelSet(one, { device: 'cpu', chunkMb: 0.01 });
  expect(a.tensors.length).toBe(SHAPES.length);
  expect(a.skipped).toEqual([]);
  expect(a.fakeInit).toBe(b.fakeInit);
  expect(a.tensors).toEqual(b.tensors); // every moment, fake-init distance and Gram entry, exactly
  expect(a.models.map((m) => [m.id, m.params, m.bytes])).toEqual(b.models.map((m) => [m.id, m.params, m.bytes]));
});

test('inspect shows a split GGUF as one model split into its files', async () => {
  const report = await inspectModel(path.join(dir, 'split-Q4_K', 'child-00002-of-00003.gguf'));
  const text = formatInspect(report);
  expect(report.id).toBe('child');
  expect(report.files).toHaveLength(3);
  expect(text).toMatch(/^model child \(file, gguf\) at .*child-00001-of-00003\.gguf$/m);
  expect(text).toMatch(/^split into 3 files \(llama\.cpp gguf-split\), read as one model$/m);
  expect(text).toMatch(/^total: 12 tensors,/m);
});
