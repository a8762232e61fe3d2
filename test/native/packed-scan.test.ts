/**
 * GPTQ/AWQ models in the scan: a parent saved unquantized and children written as GPTQ
 * (4- and 8-bit, act order) and AWQ directories (lib/io/packed-quant-writer.ts). Their packed
 * Linears line up with the parent's weights (same names and [out, in] shapes), and the scan of
 * each child equals, bit for bit in every statistic and Gram entry, the scan of an F32 copy of
 * the TypeScript reference's unpacked values; the native scan agrees with the float64
 * reference at chunk sizes that cut rows. Also: inspect's weights line, AutoGPTQ's
 * model_file_base_name, 2/3-bit weights skipped (or refused under strictDtypes), bitsandbytes
 * refused naming the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DtypeError, FormatError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { formatInspect, inspectModel } from '../../lib/io/inspect';
import { PackOptions, writePackedModel } from '../../lib/io/packed-quant-writer';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { readTensorValues } from '../../lib/io/tensor-data';
import { alignModels } from '../../lib/scan/align';
import { buildPlan } from '../../lib/scan/plan';
import { referenceScan } from '../../lib/scan/reference';
import { runNativePlan, scanModelSet } from '../../lib/scan/scan';
import type { ScanResult } from '../../lib/scan/types';
import { rng, tmpDir } from '../helpers/models';

// in 40 / 96 / 48 inputs and 13..96 outputs: no row, group or tensor fills the scan's blocks.
const PARENT: [string, number[]][] = [
  ['model.embed_tokens.weight', [30, 40]],
  ['model.layers.0.self_attn.q_proj.weight', [40, 40]],
  ['model.layers.0.mlp.up_proj.weight', [96, 40]],
  ['model.layers.0.mlp.down_proj.weight', [40, 96]],
  ['model.layers.1.self_attn.o_proj.weight', [13, 48]],
  ['model.norm.weight', [40]],
];
const CHILDREN: [string, PackOptions][] = [
  ['child-gptq4', { method: 'gptq', bits: 4, groupSize: 32 }],
  ['child-gptq8-act', { method: 'gptq', bits: 8, groupSize: 16, actOrder: true, zeroOffset: 0 }],
  ['child-awq4', { method: 'awq', bits: 4, groupSize: 16 }],
];

let dir: string;
beforeAll(() => {
  dir = tmpDir('np-packed-scan-');
  const r = rng(5);
  const p = path.join(dir, 'src', 'parent');
  fs.mkdirSync(p, { recursive: true });
  fs.writeFileSync(path.join(p, 'config.json'), JSON.stringify({ model_type: 'llama' }));
  const parent = PARENT.map(([name, shape]) => ({ name, dtype: 'F32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.05 * r.normal()) }));
  writeSafetensors(path.join(p, 'model.safetensors'), parent);
  fs.mkdirSync(path.join(dir, 'set'));
  fs.cpSync(p, path.join(dir, 'set', 'parent'), { recursive: true });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function statsOf(r: ScanResult, model: number) {
  return r.tensors.map((t) => ({ name: t.name, count: t.count, sum: t.sum[model], sumSq: t.sumSq[model], sumCube: t.sumCube[model], sumQuad: t.sumQuad[model], fake: t.fakeInitSq[model], gram: t.gram[model][model] }));
}

test('GPTQ and AWQ children line up with the parent and scan bit for bit like F32 copies of the reference values', async () => {
  const parentSet = await openModels([path.join(dir, 'src', 'parent')]);
  for (const [id, o] of CHILDREN) writePackedModel(parentSet.models[0], path.join(dir, 'set', id), { ...o, seed: 7 });
  const set = await openModels([path.join(dir, 'set')]);
  expect(set.models.map((m) => m.id)).toEqual(['child-awq4', 'child-gptq4', 'child-gptq8-act', 'parent']);
  for (const m of set.models.slice(0, 3)) {
    expect(m.tensors.map((t) => [t.name, t.shape])).toEqual(PARENT.map(([n, s]) => [n, s]));
    expect(m.tensors.filter((t) => t.packed).map((t) => t.name)).toEqual(PARENT.slice(1, 5).map(([n]) => n));
  }
  // The F32 copies: every tensor as the TypeScript reference reads it.
  const copies = path.join(dir, 'copies');
  fs.mkdirSync(copies, { recursive: true });
  for (const m of set.models)
    writeSafetensors(path.join(copies, `${m.id}.safetensors`), m.tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: readTensorValues(t) })));
  const cset = await openModels([copies]);
  for (const opts of [{ chunkMb: 0.004, threads: 2 }, { chunkMb: 2, threads: 1 }]) {
    const a = await scanModelSet(set, { device: 'cpu', fakeInit: 'hf(0.02)', ...opts });
    const b = await scanModelSet(cset, { device: 'cpu', fakeInit: 'hf(0.02)', ...opts });
    for (let m = 0; m < 4; m++) expect(statsOf(a, m)).toEqual(statsOf(b, m));
    expect(a.tensors.every((t) => t.gram.every((row, i) => row.every((v, j) => v === b.tensors.find((x) => x.name === t.name)!.gram[i][j])))).toBe(true);
    expect(a.run.bytes).toBeLessThan(b.run.bytes);
  }
  // The quantized children stay close to their parent (a real check that the values are the weights, not noise).
  const dist = (x: Float32Array, y: Float32Array) => Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0) / x.reduce((s, v) => s + v * v, 0));
  const up = (m: number) => readTensorValues(set.models[m].tensors[2]);
  expect(dist(up(1), up(3))).toBeLessThan(0.2); // 4-bit groups of 32
  expect(dist(up(2), up(3))).toBeLessThan(0.02); // 8-bit
  const { plan } = buildPlan(alignModels(set.models).groups, { seed: 1, fakeInit: 'hf(0.02)', chunkBytes: 4096 });
  expect(plan.groups.some((g) => g.members.some((x) => x.packed?.gIdx))).toBe(true);
  const out = await runNativePlan(plan);
  const ref = referenceScan(plan);
  for (let i = 0; i < ref.values.length; i++) expect(Math.abs(out.values[i] - ref.values[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.values[i])));
});

test('inspect names the packing; AutoGPTQ base names are found', async () => {
  const parentSet = await openModels([path.join(dir, 'src', 'parent')]);
  const d = path.join(dir, 'inspect-gptq');
  writePackedModel(parentSet.models[0], d, { method: 'gptq', bits: 4, groupSize: 32, actOrder: true });
  const text = formatInspect(await inspectModel(d));
  expect(text).toMatch(/^weights: gptq 4-bit group 32 ×4 \(act order ×4\), F32×2$/m);
  // AutoGPTQ: quantize_config.json and gptq_model-4bit-32g.safetensors, no config.json
  fs.renameSync(path.join(d, 'model.safetensors'), path.join(d, 'gptq_model-4bit-32g.safetensors'));
  const cfg = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8')).quantization_config;
  fs.rmSync(path.join(d, 'config.json'));
  fs.writeFileSync(path.join(d, 'quantize_config.json'), JSON.stringify({ ...cfg, quant_method: undefined, model_file_base_name: 'gptq_model-4bit-32g' }));
  const m = (await openModels([d])).models[0];
  expect(m.files).toEqual([path.join(d, 'gptq_model-4bit-32g.safetensors')]);
  expect(m.tensors.filter((t) => t.dtype === 'GPTQ4')).toHaveLength(4);
  const awq = path.join(dir, 'inspect-awq');
  writePackedModel(parentSet.models[0], awq, { method: 'awq', bits: 4, groupSize: 16 });
  expect(formatInspect(await inspectModel(awq))).toMatch(/^weights: awq 4-bit group 16 ×4, F32×2$/m);
});

test('3-bit GPTQ is left out with a reason, or a DtypeError naming the tensor under strictDtypes', async () => {
  const d = path.join(dir, 'gptq3');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ quantization_config: { quant_method: 'gptq', bits: 3, group_size: 32 } }));
  // 3-bit: 64 inputs in 6 words of 32 bits per column; zeros ceil(8·3/32) = 1 word per group.
  writeSafetensors(path.join(d, 'model.safetensors'), [
    { name: 'model.layers.0.mlp.up_proj.qweight', dtype: 'I32', shape: [6, 8], data: new Int32Array(48) },
    { name: 'model.layers.0.mlp.up_proj.qzeros', dtype: 'I32', shape: [2, 1], data: new Int32Array(2) },
    { name: 'model.layers.0.mlp.up_proj.scales', dtype: 'F16', shape: [2, 8], data: new Float32Array(16).fill(1) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) },
  ]);
  const set = await openModels([d, path.join(dir, 'src', 'parent')]);
  const t = set.models[0].tensors.find((x) => x.packed)!;
  expect([t.name, t.dtype, t.shape]).toEqual(['model.layers.0.mlp.up_proj.weight', 'GPTQ3', [8, 64]]);
  const scan = await scanModelSet(set, { device: 'cpu' });
  expect(scan.skipped).toContainEqual({ model: 'gptq3', tensor: 'model.layers.0.mlp.up_proj.weight', reason: 'dtype GPTQ3 has no dequantizer' });
  await expect(scanModelSet(set, { device: 'cpu', strictDtypes: true })).rejects.toThrow(DtypeError);
  await expect(scanModelSet(set, { device: 'cpu', strictDtypes: true })).rejects.toThrow(/gptq3.*up_proj\.weight.*GPTQ3.*4 and 8 bits/);
});

test('bitsandbytes checkpoints are refused naming the file and how to convert', async () => {
  const d = path.join(dir, 'bnb');
  fs.mkdirSync(d);
  writeSafetensors(path.join(d, 'model.safetensors'), [
    { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'F16', shape: [8, 4], data: new Float32Array(32) },
    { name: 'model.layers.0.mlp.up_proj.weight.absmax', dtype: 'F32', shape: [1], data: new Float32Array(1) },
  ]);
  await expect(openModels([d])).rejects.toThrow(FormatError);
  await expect(openModels([d])).rejects.toThrow(/model\.safetensors: tensor 'model\.layers\.0\.mlp\.up_proj\.weight\.absmax': bitsandbytes-quantized weights are not supported: dequantize/);
  // int8: SCB row scales; and a config that says bitsandbytes
  writeSafetensors(path.join(d, 'model.safetensors'), [{ name: 'lm_head.SCB', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
  await expect(openModels([d])).rejects.toThrow(/lm_head\.SCB': bitsandbytes/);
  writeSafetensors(path.join(d, 'model.safetensors'), [{ name: 'x.weight', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ quantization_config: { quant_method: 'bitsandbytes', load_in_4bit: true } }));
  await expect(openModels([d])).rejects.toThrow(/config\.json: quant_method bitsandbytes .*not supported/);
});
