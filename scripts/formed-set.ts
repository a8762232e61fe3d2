/**
 * A llama-shaped model set whose members the scan must form (dequantize, unpack, or build from
 * LoRA factors), written with the project's own writers: a BF16 parent, BF16 fine-tunes
 * (safetensors), a GGUF Q8_0 child and a GGUF Q4_K child (lib/io/gguf-from-hf.ts: q rows
 * permuted per head; rows that are not whole Q4_K blocks fall back to Q4_0 or F16), a GPTQ
 * 4-bit child (lib/io/packed-quant-writer.ts) and a PEFT LoRA adapter over the parent (rank 4
 * on every q_proj with B in BF16, rank 3 on every up_proj). Used by the CUDA emulator test
 * (tiny shapes, test/gpu/emulation.test.ts), the GPU check (scripts/gpu-check.ts) and the
 * benchmark (bench/cuda-formed.ts, llama shapes).
 */
import * as fs from 'fs';
import * as path from 'path';
import { createRng } from '../lib/graph/rng';
import { openModels } from '../lib/io/discover';
import { convertLlamaToGguf } from '../lib/io/gguf-from-hf';
import { writePackedModel } from '../lib/io/packed-quant-writer';
import { writeSafetensors } from '../lib/io/safetensors-writer';
import { needsDequantization, readTensorValues } from '../lib/io/tensor-data';
import type { ModelSource } from '../lib/io/types';
import type { NativeScanPlan } from '../lib/native';
import { alignModels } from '../lib/scan/align';
import { buildPlan } from '../lib/scan/plan';

/** Writes a llama checkpoint directory (config.json + model.safetensors) at `dir`, `base`'s
 * values plus noise when given; returns its values by tensor name. */
export type HfWriter = (dir: string, seed: number, base?: Map<string, Float32Array>) => Map<string, Float32Array>;

const TINY_CFG = { hidden_size: 256, intermediate_size: 288, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, vocab_size: 21, rms_norm_eps: 1e-5, max_position_embeddings: 64, model_type: 'llama' };
/** Not multiples of any block: rows of 256, 288 and 72, tensors of 256..5472 elements. */
const TINY_SHAPES: [string, number[]][] = [
  ['model.embed_tokens.weight', [21, 256]],
  ['model.layers.0.self_attn.q_proj.weight', [20, 256]],
  ['model.layers.0.mlp.up_proj.weight', [19, 288]],
  ['model.layers.0.mlp.down_proj.weight', [40, 72]],
  ['model.norm.weight', [256]],
];

/** The tests' tiny llama (BF16). */
export const writeTinyLlama: HfWriter = (dir, seed, base) => {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(TINY_CFG));
  const rng = createRng(seed);
  const values = new Map<string, Float32Array>();
  writeSafetensors(path.join(dir, 'model.safetensors'), TINY_SHAPES.map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = base?.get(name);
    const v = Float32Array.from({ length: n }, (_, i) => (b ? b[i] + 0.02 * (rng.next() - 0.5) : (shape.length === 1 ? 1 : 0) + 0.1 * (rng.next() - 0.5)));
    values.set(name, v);
    return { name, dtype: 'BF16' as const, shape, data: v };
  }));
  return values;
};

export interface FormedSet {
  /** The set's folder (parent, child-bf16-*, child-q8, child-q4k, child-gptq4, adapter). */
  dir: string;
  /** What lib/scan/plan.ts builds for the set (seed 7, fake init hf(0.02), 2 threads). */
  formed: NativeScanPlan;
  /** With `dense`: the same plan with each GGUF, GPTQ and LoRA member replaced by a plain F32
   * file of the TypeScript reference values (readTensorValues): the values the scan must form. */
  dense?: NativeScanPlan;
}

/** Writes the set under `root` (set/ and scratch src/, dense/). */
export async function writeFormedSet(root: string, opts: { writeHf?: HfWriter; bf16Children?: number; dense?: boolean } = {}): Promise<FormedSet> {
  const writeHf = opts.writeHf ?? writeTinyLlama;
  const set = path.join(root, 'set'), src = path.join(root, 'src');
  const parent = writeHf(path.join(set, 'parent'), 1);
  for (let i = 0; i < (opts.bf16Children ?? 1); i++) writeHf(path.join(set, `child-bf16-${i}`), 2 + i, parent);
  const children: [string, (m: ModelSource, out: string) => void][] = [
    ['child-q8', (m, out) => convertLlamaToGguf(m, path.join(out, 'model.gguf'), 'Q8_0')],
    ['child-q4k', (m, out) => convertLlamaToGguf(m, path.join(out, 'model.gguf'), 'Q4_K')],
    ['child-gptq4', (m, out) => writePackedModel(m, out, { method: 'gptq', bits: 4, groupSize: 32 })],
  ];
  for (const [i, [id, write]] of children.entries()) {
    writeHf(path.join(src, id), 100 + i, parent);
    const model = (await openModels([path.join(src, id)])).models[0];
    fs.mkdirSync(path.join(set, id), { recursive: true });
    fs.copyFileSync(path.join(src, id, 'config.json'), path.join(set, id, 'config.json'));
    write(model, path.join(set, id));
  }
  fs.rmSync(src, { recursive: true, force: true });

  const base = (await openModels([path.join(set, 'parent')])).models[0];
  const ad = path.join(set, 'adapter');
  fs.mkdirSync(ad, { recursive: true });
  fs.writeFileSync(path.join(ad, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, rank_pattern: { up_proj: 3 }, base_model_name_or_path: 'parent' }));
  const rng = createRng(99);
  const random = (n: number, s: number) => Float32Array.from({ length: n }, () => s * (rng.next() - 0.5));
  writeSafetensors(path.join(ad, 'adapter_model.safetensors'), base.tensors.filter((t) => /\.(q_proj|up_proj)\.weight$/.test(t.name)).flatMap((t) => {
    const [rows, cols] = t.shape, q = t.name.includes('q_proj'), rank = q ? 4 : 3;
    const m = `base_model.model.${t.name.replace(/\.weight$/, '')}`;
    return [
      { name: `${m}.lora_A.weight`, dtype: 'F32' as const, shape: [rank, cols], data: random(rank * cols, 0.6) },
      { name: `${m}.lora_B.weight`, dtype: q ? 'BF16' as const : 'F32' as const, shape: [rows, rank], data: random(rows * rank, 0.4) },
    ];
  }));

  const models = (await openModels([set])).models;
  const planned = buildPlan(alignModels(models).groups, { seed: 7, fakeInit: 'hf(0.02)', threads: 2 });
  const formed = planned.plan;
  if (!opts.dense) return { dir: set, formed };
  const dense: NativeScanPlan = { ...formed, files: [...formed.files], groups: formed.groups.map((g) => ({ ...g, members: [...g.members] })) };
  planned.groups.forEach((g, gi) => g.members.forEach((m, mi) => {
    const t = m.tensor;
    if (!(needsDequantization(t) || t.packed || t.lora)) return;
    const file = path.join(root, 'dense', `${gi}-${mi}.f32`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const v = readTensorValues(t);
    fs.writeFileSync(file, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    dense.files.push(file);
    dense.groups[gi].members[mi] = { file: dense.files.length - 1, offset: 0, dtype: 'F32' };
  }));
  return { dir: set, formed, dense };
}
