/**
 * The regimes zoo on the tiny LLaMA (regimeNet 'llama', lib/zoo/presets/regimes-llama.ts): the
 * partial regime's plan trained for real at shortened step counts (the recipes' optimizers and
 * update kinds as they are), written as Hugging Face checkpoint directories. Frozen tensors must
 * come back bit-identical, LoRA-style updates must have rank ≤ 4, the initialisation must follow
 * the regime's scheme, and the scan and detection must read the directories.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { buildLlamaRegimes, initRegimeLlama, llamaTrainable, regimeDomain } from '../../lib/zoo/presets/regimes-llama';
import { LM_SCALES } from '../../lib/zoo/presets/tiny-llama';
import { regimePlan } from '../../lib/zoo/regimes';
import { llamaTensorSpecs } from '../../lib/zoo/llama/config';
import { initLlama } from '../../lib/zoo/llama/model';
import { trainLm } from '../../lib/zoo/llama/train';
import { selectBackend } from '../../lib/zoo/backend';
import { Rng } from '../../lib/zoo/rng';
import type { ZooModelRecord } from '../../lib/zoo';
import { openModels } from '../../lib/io/discover';
import { scanModelSet } from '../../lib/scan/scan';
import { detect } from '../../lib/detect';
import { parseSafetensors, tensorValues } from './helpers/safetensors';
import { tempDir } from './helpers/tmp';

const config = LM_SCALES.small.config;
let tmp: { dir: string; cleanup: () => void };
let models: ZooModelRecord[];
const logs: string[] = [];

beforeAll(async () => {
  tmp = tempDir('regimes-llama');
  const backend = await selectBackend('auto');
  // The partial regime's family, its steps cut so the test stays short.
  const plan = regimePlan(['partial'], 1, 3).map((e) => ({ ...e, recipe: { ...e.recipe, steps: e.parentKey === null ? 40 : 12 } }));
  const ctx = { outDir: tmp.dir, seed: 3, scale: 'small' as const, options: { preset: 'regimes' as const, regimeNet: 'llama' as const, outDir: tmp.dir }, progress: () => undefined, log: (l: string) => logs.push(l) };
  models = await buildLlamaRegimes(ctx, plan, backend.name);
}, 600_000);
afterAll(() => tmp?.cleanup());

/** One tensor's values (PyTorch layout) from a model's HF directory, found through its index. */
function hfTensor(id: string, name: string): { values: Float32Array; bytes: Buffer; shape: number[]; dtype: string } {
  const dir = path.join(tmp.dir, id);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  const f = parseSafetensors(path.join(dir, index.weight_map[name]));
  const t = f.tensors.get(name)!;
  return { values: tensorValues(f, name), bytes: f.bytes.subarray(f.dataStart + t.begin, f.dataStart + t.end), shape: t.shape, dtype: t.dtype };
}

const byUpdate = (u: string) => models.filter((m) => m.hyperparameters.update === u);
const parentOf = (m: ZooModelRecord) => models.find((p) => p.id === m.parent)!;
const specs = llamaTensorSpecs(config);

test('five HF checkpoints of LlamaForCausalLM tensors in F32, lineage and regime recorded, no tensor leaked', () => {
  expect(tf.memory().numTensors).toBe(0);
  expect(models.length).toBe(5);
  expect(models.map((m) => m.task.name)).toEqual(['stories', 'arithmetic', 'records', 'code', 'recipes']);
  for (const m of models) {
    expect(m.format).toBe('hf-dir');
    expect(m.hyperparameters.regime).toBe('partial');
    const dir = path.join(tmp.dir, m.id);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).architectures).toEqual(['LlamaForCausalLM']);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    expect(Object.keys(index.weight_map).sort()).toEqual(specs.map((s) => s.name).sort());
    expect(new Set(Object.values(index.weight_map)).size).toBeGreaterThanOrEqual(2);
    for (const s of specs.slice(0, 3)) expect([hfTensor(m.id, s.name).dtype, hfTensor(m.id, s.name).shape]).toEqual(['F32', s.shape]);
  }
  // The parent learnt its text: far above the 1/256 of a uniform guess.
  expect(models[0].accuracy!).toBeGreaterThan(0.2);
  expect(logs.length).toBe(5);
});

test('last-layer children change lm_head alone; every other tensor is bit-identical to the parent', () => {
  const last = byUpdate('last-layer');
  expect(last.length).toBe(2);
  for (const c of last) {
    const p = parentOf(c);
    for (const s of specs) expect([s.name, hfTensor(c.id, s.name).bytes.equals(hfTensor(p.id, s.name).bytes)]).toEqual([s.name, s.name !== 'lm_head.weight']);
  }
});

test('LoRA-style children: embeddings, norms and lm_head bit-identical, each projection changed by rank ≤ 4', () => {
  const lora = byUpdate('lora');
  expect(lora.length).toBe(2);
  for (const c of lora) {
    const p = parentOf(c);
    for (const s of specs) {
      const same = hfTensor(c.id, s.name).bytes.equals(hfTensor(p.id, s.name).bytes);
      const projection = s.kind === 'linear' && s.name !== 'lm_head.weight';
      expect([s.name, same]).toEqual([s.name, !projection]);
      if (!projection) continue;
      const a = hfTensor(p.id, s.name).values;
      const b = hfTensor(c.id, s.name).values;
      const d = new Matrix(s.shape[0], s.shape[1]);
      for (let i = 0; i < s.shape[0]; i++) for (let j = 0; j < s.shape[1]; j++) d.set(i, j, b[i * s.shape[1] + j] - a[i * s.shape[1] + j]);
      const sv = new SingularValueDecomposition(d, { autoTranspose: true }).diagonal;
      expect(sv[3]).toBeGreaterThan(0);
      // Past the fourth, only F32 rounding of the merged weights is left.
      expect(sv[4] / sv[0]).toBeLessThan(1e-3);
    }
  }
});

test('text domains follow the family shape', () => {
  const plan = regimePlan(['sgd'], 1, 0);
  expect(plan.map(regimeDomain)).toEqual(['stories', 'arithmetic', 'records', 'code', 'recipes']);
});

test("the regime's scheme draws the Linear weights by fan-in; embeddings and norms start as transformers starts them", () => {
  const w = initRegimeLlama(config, 'kaiming-uniform', new Rng(1));
  const q = w.get('model.layers.0.self_attn.q_proj.weight')!;
  const down = w.get('model.layers.0.mlp.down_proj.weight')!;
  const bound = (fanIn: number) => Math.sqrt(6 / fanIn);
  const maxAbs = (x: Float32Array) => x.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  expect(maxAbs(q)).toBeLessThanOrEqual(bound(config.hiddenSize));
  expect(maxAbs(q)).toBeGreaterThan(0.9 * bound(config.hiddenSize));
  expect(maxAbs(down)).toBeLessThanOrEqual(bound(config.intermediateSize));
  expect(maxAbs(down)).toBeGreaterThan(0.9 * bound(config.intermediateSize));
  const e = w.get('model.embed_tokens.weight')!;
  const sd = Math.sqrt(e.reduce((a, v) => a + v * v, 0) / e.length);
  expect(Math.abs(sd - config.initializerRange)).toBeLessThan(0.002);
  expect([...w.get('model.norm.weight')!].every((v) => v === 1)).toBe(true);
  expect(llamaTrainable(config, { optimizer: { kind: 'sgd', learningRate: 0.1, weightDecay: 0, schedule: 'constant' }, steps: 1, batchSize: 1, update: 'full' })).toBeUndefined();
});

test('trainLm refuses a trainable set without an optimizer, and a tensor the model lacks', async () => {
  const start = initLlama(config, new Rng(2));
  const tokens = new Int32Array(400).map((_, i) => i % 200);
  const base = { learningRate: 1e-3, steps: 1, batchSize: 2, seqLen: 16, seed: 1, logEvery: 1 };
  await expect(trainLm(config, start, tokens, { ...base, trainable: new Set(['lm_head.weight']) })).rejects.toThrow(/explicit optimizer/);
  await expect(trainLm(config, start, tokens, { ...base, optimizer: { kind: 'adam', learningRate: 1e-3, weightDecay: 0, schedule: 'constant' }, trainable: new Set(['lm_head.bias']) })).rejects.toThrow(/lm_head\.bias/);
  expect(tf.memory().numTensors).toBe(0);
});

test('the scan reads the directories and the detection links every model', async () => {
  const set = await openModels([tmp.dir]);
  const scan = await scanModelSet(set, { device: 'cpu' });
  expect(scan.models.length).toBe(5);
  const r = detect(scan);
  expect(r.edges.length).toBe(4);
});
