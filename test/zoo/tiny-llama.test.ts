/**
 * Builds a one-family tiny-llama zoo (parent, three children including the vocabulary-resized
 * one, a grandchild) and checks the Hugging Face layout, BF16 shards, the resize, and training.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { buildZoo, RESIZED_VOCAB, ZooSummary } from '../../lib/zoo';
import { writeChildrenAsGguf } from '../../lib/zoo/gguf-children';
import { convertLlamaToGguf } from '../../lib/io/gguf-from-hf';
import type { QuantizeType } from '../../lib/io/gguf-quantize';
import { writeChildrenAsGptq } from '../../lib/zoo/gptq-children';
import { writeLeafChildrenAsAdapters } from '../../lib/zoo/peft-children';
import { detect } from '../../lib/detect';
import { evaluate } from '../../lib/eval/metrics';
import { openModels } from '../../lib/io/discover';
import type { ModelSet } from '../../lib/io/types';
import { scanModelSet } from '../../lib/scan/scan';
import type { ScanResult } from '../../lib/scan/types';
import { parseSafetensors } from './helpers/safetensors';
import { tempDir } from './helpers/tmp';

let zoo: ZooSummary;
let tmp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  tmp = tempDir('llama');
  zoo = await buildZoo({ preset: 'tiny-llama', outDir: tmp.dir, seed: 5, families: 1 });
}, 900_000);
afterAll(() => tmp?.cleanup());

function layerNames(i: number): string[] {
  const p = `model.layers.${i}`;
  return [
    `${p}.self_attn.q_proj.weight`,
    `${p}.self_attn.k_proj.weight`,
    `${p}.self_attn.v_proj.weight`,
    `${p}.self_attn.o_proj.weight`,
    `${p}.mlp.gate_proj.weight`,
    `${p}.mlp.up_proj.weight`,
    `${p}.mlp.down_proj.weight`,
    `${p}.input_layernorm.weight`,
    `${p}.post_attention_layernorm.weight`,
  ];
}

function readModel(id: string) {
  const dir = path.join(tmp.dir, id);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
  const shards = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
  const tensors = new Map<string, { dtype: string; shape: number[]; file: string }>();
  let bytes = 0;
  for (const s of shards) {
    const f = parseSafetensors(path.join(dir, s));
    expect(f.metadata.format).toBe('pt');
    for (const [name, t] of f.tensors) {
      expect(tensors.has(name)).toBe(false);
      tensors.set(name, { dtype: t.dtype, shape: t.shape, file: s });
      bytes += t.end - t.begin;
    }
  }
  return { config, index, shards, tensors, bytes };
}

test('one family: parent, three children, one grandchild', () => {
  expect(tf.memory().numTensors).toBe(0); // every training and evaluation freed its tensors
  expect(zoo.models).toHaveLength(5);
  expect(zoo.models.filter((m) => m.generation === 0)).toHaveLength(1);
  expect(zoo.models.filter((m) => m.generation === 1)).toHaveLength(3);
  const g = zoo.models.filter((m) => m.generation === 2);
  expect(g).toHaveLength(1);
  expect(zoo.models.find((m) => m.id === g[0].parent)?.generation).toBe(1);
  expect(zoo.lineage.families).toHaveLength(1);
  expect(zoo.lineage.edges).toHaveLength(4);
});

test('every model is an HF checkpoint: config, index, ≥ 2 BF16 shards, HF names and [out, in] shapes', () => {
  for (const m of zoo.models) {
    expect(m.format).toBe('hf-dir');
    const { config, index, shards, tensors, bytes } = readModel(m.id);
    expect(config.architectures).toEqual(['LlamaForCausalLM']);
    expect(config.model_type).toBe('llama');
    expect(config.torch_dtype).toBe('bfloat16');
    expect(shards.length).toBeGreaterThanOrEqual(2);
    for (const s of shards) expect(s).toMatch(/^model-\d{5}-of-\d{5}\.safetensors$/);
    const expected = ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight'];
    for (let i = 0; i < config.num_hidden_layers; i++) expected.push(...layerNames(i));
    expect([...tensors.keys()].sort()).toEqual(expected.sort());
    expect(Object.keys(index.weight_map).sort()).toEqual(expected.sort());
    for (const [name, t] of tensors) {
      expect(t.dtype).toBe('BF16');
      expect(index.weight_map[name]).toBe(t.file);
    }
    expect(index.metadata.total_size).toBe(bytes);
    const d = config.hidden_size;
    const I = config.intermediate_size;
    expect(tensors.get('model.layers.0.self_attn.q_proj.weight')?.shape).toEqual([d, d]);
    expect(tensors.get('model.layers.0.mlp.gate_proj.weight')?.shape).toEqual([I, d]);
    expect(tensors.get('model.layers.0.mlp.down_proj.weight')?.shape).toEqual([d, I]);
    expect(tensors.get('model.embed_tokens.weight')?.shape).toEqual([config.vocab_size, d]);
    expect(tensors.get('lm_head.weight')?.shape).toEqual([config.vocab_size, d]);
  }
});

test('the vocabulary-resized child has more rows in embed_tokens and lm_head than its parent', () => {
  const resized = zoo.models.filter((m) => m.initialization.vocabularyResized);
  expect(resized).toHaveLength(1);
  const child = readModel(resized[0].id);
  const parent = readModel(resized[0].parent as string);
  expect(child.config.vocab_size).toBe(RESIZED_VOCAB);
  expect(child.tensors.get('model.embed_tokens.weight')?.shape[0]).toBeGreaterThan(parent.tensors.get('model.embed_tokens.weight')?.shape[0] as number);
  expect(child.tensors.get('lm_head.weight')?.shape[0]).toBe(RESIZED_VOCAB);
  expect(parent.config.vocab_size).toBe(256);
});

test('training lowered the loss, and fine-tuning beat the parent on each child task', () => {
  for (const m of zoo.models) {
    expect(m.lossHistory.length).toBeGreaterThan(3);
    expect(m.lossHistory[m.lossHistory.length - 1]).toBeLessThan(m.lossHistory[0] * 0.6);
    expect(m.accuracy as number).toBeGreaterThan(0.3);
  }
  for (const c of zoo.models.filter((m) => m.parent)) {
    expect(c.accuracy as number).toBeGreaterThan((c.parentAccuracyOnTask as number) + 0.1);
    expect(c.heldOutLoss as number).toBeLessThan(c.parentHeldOutLossOnTask as number);
  }
});

// The same reader as for any Hugging Face checkpoint (config.json, sharded index, BF16), and
// the resized child compared over the common row prefix of embed_tokens / lm_head.
test('read like a real HF checkpoint; the resized child aligned by row prefix and placed under its parent', async () => {
  const set = await openModels([tmp.dir]);
  expect(set.models.every((m) => m.format === 'hf-sharded' && m.files.length >= 2)).toBe(true);
  const scan = await scanModelSet(set);
  expect(scan.fakeInit).toBe('hf(0.02)'); // from config.json's initializer_range
  const resized = zoo.models.find((m) => m.initialization.vocabularyResized)!;
  const r = scan.models.findIndex((m) => m.id === resized.id);
  for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
    const t = scan.tensors.find((x) => x.name === name)!;
    expect(t.models).toContain(r);
    expect(t.rowPrefix?.rows).toBe(256);
    expect(t.rowPrefix?.fullRows).toContain(RESIZED_VOCAB);
  }
  const result = detect(scan);
  expect(result.edges.find((e) => e.child === resized.id)?.parent).toBe(resized.parent);
  expect(evaluate(result, set.lineage!).ari).toBe(1);
}, 120_000);

/**
 * A set whose children were rewritten in another format (`what`): nothing skipped, every tensor
 * aligned across formats, the family and the resized child's parent found, and the same edges
 * as the all-safetensors zoo.
 */
async function expectSameLineage(scan: ScanResult, set: ModelSet, what: string): Promise<void> {
  expect(scan.skipped).toEqual([]);
  expect(scan.tensors.every((t) => t.models.length >= 2)).toBe(true);
  const result = detect(scan);
  const resized = zoo.models.find((m) => m.initialization.vocabularyResized)!;
  expect(result.edges.find((e) => e.child === resized.id)?.parent).toBe(resized.parent);
  expect(evaluate(result, set.lineage!).ari).toBe(1);
  const truth = new Set(set.lineage!.edges.map((e) => `${e.parent}>${e.child}`));
  const found = result.edges.filter((e) => truth.has(`${e.parent}>${e.child}`)).length;
  process.stdout.write(`tiny-llama with ${what} children: ${found}/${truth.size} edges found with direction\n`);
  const st = detect(await scanModelSet(await openModels([tmp.dir]), { device: 'cpu' }));
  expect(result.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(st.edges.map((e) => `${e.parent}>${e.child}`).sort());
}

// The zoo's gguf option on the same trained weights: children converted to GGUF (Q8_0 and
// Q4_K in turn, q/k rows permuted as llama.cpp's converter does) are read in HF names and row
// order and detection still finds the family and the resized child's parent. That child is
// split over three files as llama.cpp's gguf-split writes them, and is still one model.
test('children written as GGUF, one split into 3 files: same lineage found beside safetensors parents', async () => {
  const dir = path.join(tmp.dir, '..', `${path.basename(tmp.dir)}-gguf`);
  fs.cpSync(tmp.dir, dir, { recursive: true });
  try {
    const records = zoo.models.map((m) => ({ ...m }));
    await writeChildrenAsGguf(dir, records, ['Q8_0', 'Q4_K']);
    const children = records.filter((m) => m.parent !== null);
    expect(children.map((m) => m.gguf!.type)).toEqual(['Q8_0', 'Q4_K', 'Q8_0', 'Q4_K']);
    // hidden 64: Q4_K's 256-element blocks do not fit, so its rows fall back to Q4_0 (F16 where 32 does not divide)
    expect(Object.keys(children[1].gguf!.tensorTypes).sort()).toEqual(['F16', 'F32', 'Q4_0']);
    for (const m of children) expect(fs.readdirSync(path.join(dir, m.id)).sort()).toEqual(['config.json', 'model.gguf']);
    const resized = children.find((m) => m.initialization.vocabularyResized)!;
    fs.rmSync(path.join(dir, resized.id, 'model.gguf'));
    const original = (await openModels([path.join(tmp.dir, resized.id)])).models[0];
    convertLlamaToGguf(original, path.join(dir, resized.id, 'model.gguf'), resized.gguf!.type as QuantizeType, { files: 3 });
    const set = await openModels([dir]);
    expect(set.models.filter((m) => m.weightFormats?.includes('gguf')).length).toBe(4);
    const split = set.models.find((m) => m.id === resized.id)!;
    expect([split.ggufSplit, split.files.map((f) => path.basename(f))]).toEqual([{ files: 3 }, ['model-00001-of-00003.gguf', 'model-00002-of-00003.gguf', 'model-00003-of-00003.gguf']]);
    const scan = await scanModelSet(set, { device: 'cpu' });
    expect(scan.fakeInit).toBe('hf(0.02)');
    await expectSameLineage(scan, set, 'GGUF (one split into 3 files)');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);

// The zoo's gptq option on the same trained weights: children rewritten as 4-bit GPTQ
// (round-to-nearest, groups of 128, so one group per 64-wide row and two for down_proj's 176)
// are unpacked in the scan, line up with their safetensors parents and keep the lineage.
test('children written as 4-bit GPTQ: same lineage found beside safetensors parents', async () => {
  const dir = path.join(tmp.dir, '..', `${path.basename(tmp.dir)}-gptq`);
  fs.cpSync(tmp.dir, dir, { recursive: true });
  try {
    const records = zoo.models.map((m) => ({ ...m }));
    await writeChildrenAsGptq(dir, records);
    const children = records.filter((m) => m.parent !== null);
    expect(children.map((m) => m.gptq)).toEqual(children.map(() => ({ bits: 4, groupSize: 128, packed: 7 * 2 })));
    for (const m of children) expect(fs.readdirSync(path.join(dir, m.id)).sort()).toEqual(['config.json', 'model.safetensors']);
    const set = await openModels([dir]);
    expect(set.models.filter((m) => m.tensors.some((t) => t.dtype === 'GPTQ4')).length).toBe(4);
    await expectSameLineage(await scanModelSet(set, { device: 'cpu' }), set, 'GPTQ');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);

// Leaf children as PEFT adapters made from the real fine-tunes (rank-8 SVD of child − parent per
// decoder weight, other changed tensors saved whole): read as base + B·A over the parent.
test('leaf children written as PEFT LoRA adapters over their parent: same family found', async () => {
  const dir = path.join(tmp.dir, '..', `${path.basename(tmp.dir)}-peft`);
  fs.cpSync(tmp.dir, dir, { recursive: true });
  try {
    const written = await writeLeafChildrenAsAdapters(dir, zoo.models, 8);
    expect(written.length).toBe(3); // the children of the root except the one with a grandchild
    const set = await openModels([dir]);
    const adapters = set.models.filter((m) => m.adapter);
    expect(adapters.map((m) => m.id).sort()).toEqual([...written].sort());
    for (const a of adapters) expect(a.adapter!.baseId).toBe(zoo.models.find((m) => m.id === a.id)!.parent);
    const scan = await scanModelSet(set, { device: 'cpu' });
    const result = detect(scan);
    const truth = new Set(set.lineage!.edges.map((e) => `${e.parent}>${e.child}`));
    const found = result.edges.filter((e) => truth.has(`${e.parent}>${e.child}`)).length;
    process.stdout.write(`tiny-llama with ${written.length} PEFT adapter children: ${found}/${truth.size} edges found with direction\n`);
    expect(evaluate(result, set.lineage!).ari).toBe(1);
    for (const id of written) expect(result.edges.find((e) => e.child === id)?.parent).toBe(zoo.models.find((m) => m.id === id)!.parent);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
