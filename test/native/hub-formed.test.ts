/**
 * Fingerprints of tensors that are made before they are read (lib/hub/formed-rows.ts): GGUF
 * block types (Q8_0, Q4_K) with llama q/k rows stored in GGUF order, GGUF F16 (dense, but q/k
 * permuted), a GPTQ 4-bit weight, and a PEFT LoRA adapter over its base. Each fingerprint's kept
 * values and moments are held to the tensor's values as the reference scan reads them
 * (readTensorValues), at a config that samples rows and columns; and an index of such a set gives
 * every method the exact scan's answer. Fresh random weights each run; 37 vocabulary rows and
 * grouped-query attention so nothing is a multiple of a block.
 */
import * as fs from 'fs';
import * as path from 'path';
import { detect } from '../../lib/detect/detect';
import { IoError, PhylogenyError } from '../../lib/errors';
import { addToIndex } from '../../lib/hub/add';
import { detectIndex } from '../../lib/hub/detect-index';
import { fingerprintModel } from '../../lib/hub/fingerprint';
import { readFormedTensor } from '../../lib/hub/formed-rows';
import { referenceRowMoments } from '../../lib/hub/reference';
import { colsOfRow, DEFAULT_FINGERPRINT_CONFIG, shapeView } from '../../lib/hub/sample';
import { openModels } from '../../lib/io/discover';
import { convertLlamaToGguf } from '../../lib/io/gguf-from-hf';
import { writeSafetensors, TensorData } from '../../lib/io/safetensors-writer';
import { readTensorValues } from '../../lib/io/tensor-data';
import type { ModelSource } from '../../lib/io/types';
import { scanModelSet } from '../../lib/scan/scan';
import { rng, tmpDir } from '../helpers/models';
import { CFG, SHAPES } from './llama-gguf-shapes';
import { writePackedDir } from './packed-helpers';

// Samples rows and columns of every matrix (the default would keep these models whole).
const SAMPLED = { ...DEFAULT_FINGERPRINT_CONFIG, wholeParams: 0, budget: 4096, keepMin: 256, cols: 8 };

describe('fingerprints of formed tensors (GGUF, GPTQ, PEFT)', () => {
  const seed = Number(process.env.NP_TEST_SEED ?? (Date.now() ^ (process.pid << 9)) >>> 0); // NP_TEST_SEED=N repeats a run
  const dir = tmpDir('np-hub-formed-');
  const set = path.join(dir, 'set');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const r = rng(seed);
    const writeHf = (d: string, base?: Map<string, Float32Array>) => {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(CFG));
      const out = new Map<string, Float32Array>();
      writeSafetensors(path.join(d, 'model.safetensors'), SHAPES.map(([name, shape]) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const b = base?.get(name);
        const v = Float32Array.from({ length: n }, (_, i) => (b ? b[i] : shape.length === 1 ? 1 : 0) + (b ? 0.01 : 0.05) * r.normal());
        out.set(name, v);
        return { name, dtype: 'F32', shape, data: v };
      }));
      return out;
    };
    const root = writeHf(path.join(set, 'base'));
    writeHf(path.join(dir, 'child-q8'), root);
    writeHf(path.join(dir, 'child-q4k'), root);
    writeHf(path.join(dir, 'child-f16'), root);
    for (const [name, type] of [['child-q8', 'Q8_0'], ['child-q4k', 'Q4_K'], ['child-f16', 'F16']] as const) {
      const m = (await openModels([path.join(dir, name)])).models[0];
      fs.mkdirSync(path.join(set, name), { recursive: true });
      convertLlamaToGguf(m, path.join(set, name, 'model.gguf'), type);
    }
    // A GPTQ 4-bit model of one Linear (with its own random weights: only its reading is held here).
    writePackedDir(path.join(set, 'gptq'), { method: 'gptq', bits: 4, in: 256, out: 96, groupSize: 64 }, r.uniform);
    // A LoRA adapter of rank 3 over the base's q and down projections.
    const ad = path.join(set, 'adapter');
    fs.mkdirSync(ad, { recursive: true });
    fs.writeFileSync(path.join(ad, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 3, lora_alpha: 6, base_model_name_or_path: 'base' }));
    const lora: TensorData[] = [];
    for (const t of ['model.layers.0.self_attn.q_proj', 'model.layers.0.mlp.down_proj']) {
      const [, shape] = SHAPES.find(([n]) => n === `${t}.weight`)!;
      lora.push({ name: `base_model.model.${t}.lora_A.weight`, dtype: 'F32', shape: [3, shape[1]], data: Float32Array.from({ length: 3 * shape[1] }, () => 0.2 * r.normal()) });
      lora.push({ name: `base_model.model.${t}.lora_B.weight`, dtype: 'BF16', shape: [shape[0], 3], data: Float32Array.from({ length: shape[0] * 3 }, () => 0.1 * r.normal()) });
    }
    writeSafetensors(path.join(ad, 'adapter_model.safetensors'), lora);
  });

  test(`kept values and moments are the reference reader's rows (seed ${seed})`, async () => {
    const opened = await openModels([set]);
    const byId = new Map(opened.models.map((m) => [m.id, m]));
    const check = async (m: ModelSource, kinds: RegExp) => {
      const fp = await fingerprintModel(m, { config: SAMPLED });
      expect(fp.skipped).toEqual([]);
      let formed = 0;
      for (const t of fp.tensors) {
        const e = m.tensors.find((x) => x.name === t.name)!;
        if (kinds.test(e.gguf ? `gguf:${e.dtype}` : e.lora ? 'lora' : e.packed ? 'packed' : e.dtype)) formed++;
        const all = readTensorValues(e);
        const { rowLen } = shapeView(t.shape);
        const sums = [0, 0, 0, 0];
        const want: number[] = [];
        t.rows.forEach((r, i) => {
          const row = all.subarray(r * rowLen, (r + 1) * rowLen);
          referenceRowMoments(row).forEach((v, j) => (sums[j] += v));
          for (const c of colsOfRow(t, i)) want.push(row[c]);
        });
        expect({ tensor: t.name, values: Array.from(t.values) }).toEqual({ tensor: t.name, values: want });
        expect({ tensor: t.name, moments: t.moments }).toEqual({ tensor: t.name, moments: sums });
      }
      expect(formed).toBeGreaterThan(0);
      return fp;
    };
    await check(byId.get('child-q8')!, /gguf:Q8_0/);
    await check(byId.get('child-q4k')!, /gguf:Q4_K/);
    await check(byId.get('child-f16')!, /gguf:F16/);
    await check(byId.get('gptq')!, /packed/);
    const adapter = await check(byId.get('adapter')!, /lora/);
    // Some matrices are sampled (not every row, or not every column).
    expect(adapter.tensors.some((t) => t.rows.length < t.shape[0] || t.colMode === 'per-row')).toBe(true);
  });

  test('an index of the set gives the exact scan\'s answer, the adapter\'s edge read from its files', async () => {
    const idx = path.join(dir, 'index');
    // Kept whole (these models have 0.6M parameters, above the default wholeParams), so the
    // estimates are exact and only the reading is compared.
    await addToIndex(idx, [set], { config: { ...DEFAULT_FINGERPRINT_CONFIG, wholeParams: 2 ** 20 } });
    const scan = await scanModelSet(await openModels([set]));
    // One method of each kind (tree, k-means, MoTHer's kurtosis direction), to keep the test short.
    for (const method of ['additive-tree', 'arborescence', 'kmeans-along', 'mother'] as const) {
      const est = await detectIndex(idx, { method, threads: 1 });
      const exact = detect(scan, { method });
      const edges = (x: { edges: { parent: string; child: string; type?: string }[] }) => x.edges.map((e) => `${e.parent}>${e.child}:${e.type ?? ''}`).sort();
      expect({ method, edges: edges(est) }).toEqual({ method, edges: edges(exact) });
    }
    const est = await detectIndex(idx);
    expect(est.edges.find((e) => e.child === 'adapter')).toMatchObject({ parent: 'base', type: 'peft' });
  });

  test('a GGUF file truncated after it was opened is an IoError naming it, not zeros read as weights', async () => {
    const copy = path.join(dir, 'truncated');
    fs.mkdirSync(copy, { recursive: true });
    fs.copyFileSync(path.join(set, 'child-q8', 'model.gguf'), path.join(copy, 'model.gguf'));
    const m = (await openModels([copy])).models[0];
    fs.truncateSync(path.join(copy, 'model.gguf'), Math.floor(fs.statSync(path.join(copy, 'model.gguf')).size / 2));
    await expect(fingerprintModel(m, { config: SAMPLED })).rejects.toThrow(PhylogenyError);
    await expect(fingerprintModel(m, { config: SAMPLED })).rejects.toThrow(/truncated\/model\.gguf: /);
    // The formed-row reader on its own (the native reader of the dense tensors found it first above).
    const t = m.tensors.filter((x) => x.dtype === 'Q8_0').sort((a, b) => b.offset - a.offset)[0];
    const rows = Uint32Array.from({ length: t.shape[0] }, (_, i) => i);
    expect(() => readFormedTensor(t, { rows, colMode: 'all', nCols: 1, cols: Uint32Array.of(0) }, undefined)).toThrow(IoError);
    expect(() => readFormedTensor(t, { rows, colMode: 'all', nCols: 1, cols: Uint32Array.of(0) }, undefined)).toThrow(/truncated\/model\.gguf: short read/);
  });

  test('an adapter added without its base is left out with the reason, and nothing else is lost', async () => {
    const idx = path.join(dir, 'alone');
    const added = await addToIndex(idx, [path.join(set, 'adapter'), path.join(set, 'gptq')]);
    expect(added.added).toBe(1);
    expect(added.warnings.join('\n')).toMatch(/PEFT adapter of base 'base', which is not in the set/);
    expect(added.warnings.join('\n')).toMatch(/adapter: not indexed/);
  });
});
