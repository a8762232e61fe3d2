/**
 * PEFT LoRA adapters in the scan: an adapter directory is the model base + scale · B·A,
 * formed row by row in the native scan from the base's member of each group. Checked against
 * the same models merged in TypeScript (float64 products, lib/io/tensor-data.ts formLora) and
 * saved as F32 safetensors: every statistic and Gram entry equal bit for bit; the native scan
 * agrees with the float64 reference scan at chunk sizes that cut rows. Base matching, the
 * missing-base path, --adapter-base, and every adapter_config.json rule.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, InvalidArgumentError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { formatInspect, inspectModel } from '../../lib/io/inspect';
import { parsePeftConfig } from '../../lib/io/peft';
import { writeSafetensors, TensorData } from '../../lib/io/safetensors-writer';
import { formLora, readTensorValues } from '../../lib/io/tensor-data';
import { alignModels } from '../../lib/scan/align';
import { buildPlan } from '../../lib/scan/plan';
import { referenceScan } from '../../lib/scan/reference';
import { runNativePlan, scanModelSet } from '../../lib/scan/scan';
import { native } from '../../lib/native';
import type { ScanResult } from '../../lib/scan/types';
import { rng, tmpDir } from '../helpers/models';

const P = 'base_model.model.';
// cols 40 and 48 rows: no row or tensor is a multiple of the scan's 2048-element block.
const BASE: [string, number[], 'F32' | 'BF16'][] = [
  ['model.layers.0.self_attn.q_proj.weight', [48, 40], 'BF16'],
  ['model.layers.0.self_attn.v_proj.weight', [40, 40], 'F32'],
  ['model.layers.0.mlp.up_proj.weight', [96, 40], 'F32'],
  ['model.norm.weight', [40], 'F32'],
];

let dir: string;
const values = (n: number, seed: number, s: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => s * r.normal());
};

function writeAdapter(name: string, cfg: Record<string, unknown>, targets: string[], rank: number, seed: number, extra: TensorData[] = [], readme?: string): void {
  const d = path.join(dir, 'set', name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: rank, ...cfg }));
  if (readme) fs.writeFileSync(path.join(d, 'README.md'), readme);
  const tensors: TensorData[] = [...extra];
  targets.forEach((t, i) => {
    const [, shape] = BASE.find(([n]) => n === t)!;
    const m = t.replace(/\.weight$/, '');
    tensors.push({ name: `${P}${m}.lora_A.weight`, dtype: 'F32', shape: [rank, shape[1]], data: values(rank * shape[1], seed + i, 0.3) });
    tensors.push({ name: `${P}${m}.lora_B.weight`, dtype: i % 2 ? 'F32' : 'BF16', shape: [shape[0], rank], data: values(shape[0] * rank, seed + 50 + i, 0.2) });
  });
  writeSafetensors(path.join(d, 'adapter_model.safetensors'), tensors);
}

beforeAll(() => {
  dir = tmpDir('np-peft-');
  const b = path.join(dir, 'set', 'tiny-base');
  fs.mkdirSync(b, { recursive: true });
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify({ _name_or_path: 'org/tiny-base-v1' }));
  writeSafetensors(path.join(b, 'model.safetensors'), BASE.map(([name, shape, dtype], i) => ({ name, dtype, shape, data: values(shape.reduce((x, y) => x * y, 1), i + 1, 0.1) })));
  writeAdapter('ad-plain', { lora_alpha: 8, base_model_name_or_path: 'org/tiny-base-v1' }, ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.v_proj.weight'], 4, 10);
  writeAdapter('ad-rslora', { lora_alpha: 16, use_rslora: true, rank_pattern: { up_proj: 2 }, alpha_pattern: { up_proj: 3 } }, ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.up_proj.weight'], 8, 20,
    [{ name: `${P}model.norm.modules_to_save.default.weight`, dtype: 'F32', shape: [40], data: values(40, 99, 1) }],
    '---\nlicense: mit\nbase_model:\n- someone/tiny-base\n---\n# adapter\n');
  // rank_pattern gives up_proj rank 2: rewrite that pair with rank 2
  const d = path.join(dir, 'set', 'ad-rslora');
  const up = (x: string) => `${P}model.layers.0.mlp.up_proj.${x}.weight`;
  const f = path.join(d, 'adapter_model.safetensors');
  const q = (x: string) => `${P}model.layers.0.self_attn.q_proj.${x}.weight`;
  writeSafetensors(f, [
    { name: q('lora_A'), dtype: 'F32', shape: [8, 40], data: values(320, 21, 0.3) },
    { name: q('lora_B'), dtype: 'BF16', shape: [48, 8], data: values(384, 22, 0.2) },
    { name: up('lora_A'), dtype: 'F32', shape: [2, 40], data: values(80, 23, 0.3) },
    { name: up('lora_B'), dtype: 'F32', shape: [96, 2], data: values(192, 24, 0.2) },
    { name: `${P}model.norm.modules_to_save.default.weight`, dtype: 'F32', shape: [40], data: values(40, 99, 1) },
  ]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Fresh shapes and values on every run; NP_TEST_SEED=N repeats a failing run.
const SEED = Number(process.env.NP_TEST_SEED ?? Math.floor(Math.random() * 1e9));

function statsOf(r: ScanResult) {
  return r.tensors.map((t) => ({ name: t.name, count: t.count, sum: t.sum, sumSq: t.sumSq, sumCube: t.sumCube, sumQuad: t.sumQuad, fakeInitSq: t.fakeInitSq, gram: t.gram }));
}

test('adapters are matched to their base and read as base + scale · B·A', async () => {
  const set = await openModels([path.join(dir, 'set')]);
  expect(set.models.map((m) => [m.id, m.format, m.adapter?.baseId])).toEqual([
    ['ad-plain', 'peft', 'tiny-base'], ['ad-rslora', 'peft', 'tiny-base'], ['tiny-base', 'hf', undefined],
  ]);
  const plain = set.models[0];
  expect(plain.tensors.map((t) => t.name)).toEqual(BASE.map(([n]) => n));
  const q = plain.tensors[0];
  expect(q.lora!.scale).toBe(8 / 4);
  expect(plain.tensors[2]).toBe(set.models[2].tensors[2]); // unchanged: the base's own entry
  const rs = set.models[1];
  expect(rs.tensors[0].lora!.scale).toBe(16 / Math.sqrt(8));
  expect(rs.tensors[2].lora!.scale).toBe(3 / Math.sqrt(2)); // rank_pattern / alpha_pattern
  expect(rs.tensors[3].file).toContain('adapter_model'); // modules_to_save replaces the base's norm
});

test('the scan of base + adapters equals the scan of the merged models bit for bit, and the float64 reference', async () => {
  const set = await openModels([path.join(dir, 'set')]);
  const merged = path.join(dir, 'merged');
  fs.mkdirSync(merged, { recursive: true });
  for (const m of set.models)
    writeSafetensors(path.join(merged, `${m.id}.safetensors`), m.tensors.map((t) => {
      const l = t.lora;
      // merged in TypeScript: float64 products of the float32 A, B and base values
      const data = l ? formLora(readTensorValues(l.base), readTensorValues(l.a), readTensorValues(l.b), l.rank, l.a.shape[1], l.scale, 0) : readTensorValues(t);
      return { name: t.name, dtype: 'F32', shape: t.shape, data };
    }));
  const mset = await openModels([merged]);
  for (const opts of [{ chunkMb: 0.004, threads: 2 }, { chunkMb: 2, threads: 1 }]) {
    const a = await scanModelSet(set, { device: 'cpu', fakeInit: 'hf(0.02)', ...opts });
    const b = await scanModelSet(mset, { device: 'cpu', fakeInit: 'hf(0.02)', ...opts });
    expect(statsOf(a)).toEqual(statsOf(b));
    expect(a.run.bytes).toBeLessThan(b.run.bytes); // the base is read once, not once per adapter
  }
  const { plan } = buildPlan(alignModels(set.models).groups, { seed: 1, fakeInit: 'hf(0.02)', chunkBytes: 4096 });
  expect(plan.groups.some((g) => g.members.some((m) => m.lora))).toBe(true);
  const out = await runNativePlan(plan);
  const ref = referenceScan(plan);
  for (let i = 0; i < ref.values.length; i++) expect(Math.abs(out.values[i] - ref.values[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.values[i])));
});

test('a missing base leaves the adapter out with a warning naming the base; inspect shows its own tensors', async () => {
  const set = await openModels([path.join(dir, 'set', 'ad-plain'), path.join(dir, 'merged', 'tiny-base.safetensors')]);
  expect(set.models.map((m) => m.id)).toEqual(['tiny-base']);
  expect(set.warnings.join('\n')).toMatch(/ad-plain: PEFT adapter of base 'org\/tiny-base-v1', which is not in the set; left out \(add the base, or give --adapter-base ad-plain=BASE\)/);
  // README front matter names the base when adapter_config.json does not; last path segments match
  const rs = await openModels([path.join(dir, 'set', 'ad-rslora'), path.join(dir, 'merged', 'tiny-base.safetensors')]);
  expect(rs.models.find((m) => m.id === 'ad-rslora')!.adapter).toMatchObject({ wants: 'someone/tiny-base', baseId: 'tiny-base' });
  const withBase = await openModels([path.join(dir, 'set', 'ad-plain'), path.join(dir, 'merged', 'tiny-base.safetensors')], { adapterBases: { 'ad-plain': 'tiny-base' } });
  expect(withBase.models.find((m) => m.id === 'ad-plain')!.adapter!.baseId).toBe('tiny-base');
  await expect(openModels([path.join(dir, 'set')], { adapterBases: { 'tiny-base': 'x' } })).rejects.toThrow(InvalidArgumentError);
  const report = await inspectModel(path.join(dir, 'set', 'ad-plain'));
  expect(report.tensors.map((t) => t.name)).toContain(`${P}model.layers.0.self_attn.q_proj.lora_A.weight`);
  expect(formatInspect(report)).toMatch(/adapter: PEFT LoRA r=4, 2 pairs, base 'org\/tiny-base-v1'/);
});

test('adapter_config.json: every rule refused with the file named', () => {
  const ok = { peft_type: 'LORA', r: 8, lora_alpha: 16 };
  expect(parsePeftConfig(JSON.stringify(ok), 'c.json')).toMatchObject({ rank: 8, alpha: 16, rslora: false });
  const bad: [unknown, RegExp][] = [
    ['{', /not valid JSON/],
    [[1], /must hold a JSON object/],
    [{ r: 8, lora_alpha: 1 }, /has no peft_type/],
    [{ ...ok, peft_type: 'IA3' }, /peft_type "IA3" is not supported/],
    [{ ...ok, use_dora: true }, /DoRA/],
    [{ ...ok, use_dora: 'yes' }, /use_dora must be a boolean/],
    [{ ...ok, fan_in_fan_out: true }, /fan_in_fan_out/],
    [{ ...ok, layer_replication: [[0, 1]] }, /layer_replication/],
    [{ ...ok, r: 0 }, /r must be an integer/],
    [{ ...ok, r: 2.5 }, /r must be an integer/],
    [{ ...ok, r: 1e9 }, /r must be an integer/],
    [{ ...ok, lora_alpha: 'x' }, /lora_alpha must be a finite number/],
    [{ ...ok, use_rslora: 1 }, /use_rslora must be a boolean/],
    [{ ...ok, base_model_name_or_path: 3 }, /base_model_name_or_path must be a string/],
    [{ ...ok, target_modules: [1] }, /target_modules/],
    [{ ...ok, modules_to_save: 'lm_head' }, /modules_to_save/],
    [{ ...ok, bias: 'some' }, /bias must be/],
    [{ ...ok, rank_pattern: { q_proj: 0 } }, /rank_pattern\['q_proj'\] must be an integer/],
    [{ ...ok, rank_pattern: [] }, /rank_pattern must be an object/],
    [{ ...ok, alpha_pattern: { '.*q_proj': 4 } }, /is a regular expression/],
    [{ ...ok, alpha_pattern: { q_proj: null } }, /must be a finite number/],
  ];
  for (const [cfg, msg] of bad) {
    const text = typeof cfg === 'string' ? cfg : JSON.stringify(cfg);
    expect(() => parsePeftConfig(text, '/x/adapter_config.json')).toThrow(FormatError);
    expect(() => parsePeftConfig(text, '/x/adapter_config.json')).toThrow(new RegExp(`^/x/adapter_config\\.json: .*${msg.source}`));
  }
});

test('adapter tensors that cannot be formed are refused naming the file and tensor', async () => {
  const cases: [string, TensorData[], Record<string, unknown>, RegExp][] = [
    ['no-b', [{ name: `${P}model.layers.0.self_attn.v_proj.lora_A.weight`, dtype: 'F32', shape: [4, 40], data: new Float32Array(160) }], {}, /has no lora_B partner/],
    ['dora', [{ name: `${P}model.layers.0.self_attn.v_proj.lora_magnitude_vector.weight`, dtype: 'F32', shape: [40], data: new Float32Array(40) }], {}, /DoRA/],
    ['emb', [{ name: `${P}model.embed_tokens.lora_embedding_A`, dtype: 'F32', shape: [4, 40], data: new Float32Array(160) }], {}, /embedding LoRA/],
    ['prefix', [{ name: 'model.norm.weight', dtype: 'F32', shape: [40], data: new Float32Array(40) }], {}, /base_model\.model\./],
    ['rank', [
      { name: `${P}model.layers.0.self_attn.v_proj.lora_A.weight`, dtype: 'F32', shape: [4, 40], data: new Float32Array(160) },
      { name: `${P}model.layers.0.self_attn.v_proj.lora_B.weight`, dtype: 'F32', shape: [40, 4], data: new Float32Array(160) },
    ], { r: 8 }, /has rank 4 but .*adapter_config\.json says r = 8/],
    ['shape', [
      { name: `${P}model.layers.0.self_attn.v_proj.lora_A.weight`, dtype: 'F32', shape: [4, 41], data: new Float32Array(164) },
      { name: `${P}model.layers.0.self_attn.v_proj.lora_B.weight`, dtype: 'F32', shape: [40, 4], data: new Float32Array(160) },
    ], {}, /do not fit 'model\.layers\.0\.self_attn\.v_proj\.weight' \[40, 40\] of base tiny-base/],
  ];
  for (const [name, tensors, cfg, msg] of cases) {
    const d = path.join(dir, 'bad', name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 4, base_model_name_or_path: 'tiny-base', ...cfg }));
    writeSafetensors(path.join(d, 'adapter_model.safetensors'), tensors);
    const p = openModels([d, path.join(dir, 'set', 'tiny-base')]);
    await expect(p).rejects.toThrow(FormatError);
    await expect(openModels([d, path.join(dir, 'set', 'tiny-base')])).rejects.toThrow(msg);
  }
});

describe(`LoRA rows of random shapes and ranks 1, 7, 16, 64 (seed ${SEED})`, () => {
  // Rows and columns drawn so that neither rows, columns nor tensors are multiples of the
  // kernels' panels (8 to 32 columns), register tiles (1 to 4 rows) or the 2048-element
  // block, plus one panel-aligned tensor; the base in all four float dtypes. Two adapters,
  // each with ranks 1, 7, 16 and 64 by rank_pattern, A and B in BF16 and F32.
  const MODULES: [string, number, 'F32' | 'BF16' | 'F16' | 'F64'][] = [
    ['model.layers.0.mlp.gate_proj', 1, 'BF16'],
    ['model.layers.0.mlp.up_proj', 7, 'F16'],
    ['model.layers.0.self_attn.q_proj', 16, 'F32'],
    ['model.layers.0.mlp.down_proj', 64, 'F64'],
    ['model.layers.0.self_attn.o_proj', 16, 'BF16'],
  ];
  let set: Awaited<ReturnType<typeof openModels>>;
  let mset: Awaited<ReturnType<typeof openModels>>;
  beforeAll(async () => {
    const r = rng(SEED);
    const pick = (lo: number, hi: number) => lo + Math.floor(r.uniform() * (hi - lo));
    const odd = (lo: number, hi: number) => { for (;;) { const v = pick(lo, hi); if (v % 8) return v; } };
    const shapes = MODULES.map(([, , ], i) => (i === 4 ? [64, 96] : [odd(5, 90), odd(9, 200)]));
    const root = path.join(dir, 'random');
    const b = path.join(root, 'set', 'base');
    fs.mkdirSync(b, { recursive: true });
    const baseVals = shapes.map((sh, i) => values(sh[0] * sh[1], SEED + i, 0.05));
    writeSafetensors(path.join(b, 'model.safetensors'), MODULES.map(([m, , dtype], i) => ({ name: `${m}.weight`, dtype, shape: shapes[i], data: baseVals[i] })));
    const pattern = Object.fromEntries(MODULES.map(([m, rank]) => [m.split('.').pop()!, rank]));
    for (let j = 0; j < 2; j++) {
      const d = path.join(root, 'set', `lora${j}`);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 16, lora_alpha: 8 + j, rank_pattern: pattern, base_model_name_or_path: 'base' }));
      writeSafetensors(path.join(d, 'adapter_model.safetensors'), MODULES.flatMap(([m, rank], i) => [
        { name: `${P}${m}.lora_A.weight`, dtype: (i + j) % 2 ? 'F32' : 'BF16', shape: [rank, shapes[i][1]], data: values(rank * shapes[i][1], SEED + 100 * j + 10 + i, 0.3) },
        { name: `${P}${m}.lora_B.weight`, dtype: (i + j) % 2 ? 'BF16' : 'F32', shape: [shapes[i][0], rank], data: values(shapes[i][0] * rank, SEED + 100 * j + 50 + i, 0.1) },
      ] as TensorData[]));
    }
    set = await openModels([path.join(root, 'set')]);
    // The same models merged in TypeScript (formLora: float64 products in k order) as F32.
    fs.mkdirSync(path.join(root, 'merged'), { recursive: true });
    for (const m of set.models)
      writeSafetensors(path.join(root, 'merged', `${m.id}.safetensors`), m.tensors.map((t) => {
        const l = t.lora;
        const data = l ? formLora(readTensorValues(l.base), readTensorValues(l.a), readTensorValues(l.b), l.rank, l.a.shape[1], l.scale, 0) : readTensorValues(t);
        return { name: t.name, dtype: 'F32', shape: t.shape, data };
      }));
    mset = await openModels([path.join(root, 'merged')]);
    expect(set.models.filter((m) => m.adapter).flatMap((m) => m.tensors.map((t) => t.lora?.rank)).sort()).toEqual([1, 1, 16, 16, 16, 16, 64, 64, 7, 7]);
  });

  it.each(native().cpuInfo().supportedIsas)('every statistic equals the merged models bit for bit and the float64 reference (%s kernels)', async (isa) => {
    for (const opts of [{ chunkMb: 0.004, threads: 2 }, { chunkMb: 2, threads: 1 }]) {
      const a = await scanModelSet(set, { device: 'cpu', fakeInit: 'hf(0.02)', isa: isa as 'scalar', ...opts });
      const m = await scanModelSet(mset, { device: 'cpu', fakeInit: 'hf(0.02)', isa: isa as 'scalar', ...opts });
      expect(a.run.isa).toBe(isa);
      expect(statsOf(a)).toEqual(statsOf(m));
    }
    const { plan } = buildPlan(alignModels(set.models).groups, { seed: 1, fakeInit: 'hf(0.02)', chunkBytes: 4096 });
    const out = await runNativePlan({ ...plan, isa: isa as 'scalar' });
    const ref = referenceScan(plan);
    for (let i = 0; i < ref.values.length; i++) expect(Math.abs(out.values[i] - ref.values[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.values[i])));
  });
});
