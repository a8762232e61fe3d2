/**
 * GPTQ/AWQ checkpoints that break a rule: one crafted model per rule of the quantization
 * config (lib/io/quant-config.ts) and of the packed tensors (lib/io/packed-quant.ts), each
 * refused with a FormatError whose message names the file (and the tensor) and the rule,
 * before anything is scanned. The valid model each case starts from is opened first, so every
 * refusal is caused by its one change.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { parseQuantConfig } from '../../lib/io/quant-config';
import { TensorData, writeSafetensors } from '../../lib/io/safetensors-writer';
import { scanModelSet } from '../../lib/scan/scan';
import { PackedSpec, PREFIX, configOf, randomPacked } from './packed-helpers';
import { rng, tmpDir } from './safetensors-helpers';

const dir = tmpDir('np-packed-format-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const random = rng(0x666f726d);
const GPTQ: PackedSpec = { method: 'gptq', bits: 4, in: 48, out: 12, groupSize: 16, actOrder: true };
const AWQ: PackedSpec = { method: 'awq', bits: 4, in: 20, out: 12, groupSize: 8 };
let n = 0;

/** A model directory from `spec` with its tensors and config changed by `edit`. */
function write(spec: PackedSpec, edit: (t: TensorData[]) => TensorData[] = (t) => t, config: Record<string, unknown> = configOf(spec), configFile = 'config.json'): string {
  const d = path.join(dir, `m${n++}`);
  fs.mkdirSync(d);
  writeSafetensors(path.join(d, 'model.safetensors'), edit(randomPacked(spec, random).tensors));
  fs.writeFileSync(path.join(d, configFile), JSON.stringify(configFile === 'config.json' ? { quantization_config: config } : config));
  return d;
}
const without = (p: string) => (t: TensorData[]) => t.filter((x) => x.name !== `${PREFIX}.${p}`);
const changed = (p: string, c: Partial<TensorData>) => (t: TensorData[]) => t.map((x) => (x.name === `${PREFIX}.${p}` ? { ...x, ...c } : x));

async function refused(d: string, message: RegExp): Promise<void> {
  const err = await openModels([d]).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).toContain(d);
}

test('the unchanged models are read', async () => {
  for (const spec of [GPTQ, AWQ]) expect((await openModels([write(spec)])).models[0].tensors[0].packed).toBeDefined();
});

describe('quantization config rules', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['not an object', [] as unknown as Record<string, unknown>, /must be a JSON object/],
    ['quant_method not a string', { ...configOf(GPTQ), quant_method: 4 }, /quant_method must be a string/],
    ['bits outside 2, 3, 4, 8', { ...configOf(GPTQ), bits: 5 }, /bits must be one of 2, 3, 4, 8/],
    ['bits not a number', { ...configOf(GPTQ), bits: '4' }, /bits must be one of/],
    ['group_size 0', { ...configOf(GPTQ), group_size: 0 }, /group_size must be -1 or an integer/],
    ['group_size fractional', { ...configOf(GPTQ), group_size: 12.5 }, /group_size must be -1 or an integer/],
    ['group_size too large', { ...configOf(GPTQ), group_size: 2 ** 21 }, /group_size must be -1 or an integer in 1\.\.1048576/],
    ['desc_act not a boolean', { ...configOf(GPTQ), desc_act: 'yes' }, /desc_act must be a boolean/],
    ['sym not a boolean', { ...configOf(GPTQ), sym: 1 }, /sym must be a boolean/],
    ['checkpoint_format not a string', { ...configOf(GPTQ), checkpoint_format: 2 }, /checkpoint_format must be a string/],
    ['checkpoint_format marlin', { ...configOf(GPTQ), checkpoint_format: 'marlin' }, /checkpoint_format 'marlin' is not supported/],
    ['AWQ with 8 bits', { ...configOf(AWQ), bits: 8 }, /AWQ checkpoints pack 4-bit weights only/],
    ['AWQ group_size -1', { ...configOf(AWQ), group_size: -1 }, /AWQ checkpoints have groups of a fixed size/],
    ['AWQ version not a string', { ...configOf(AWQ), version: 1 }, /version must be a string/],
    ['AWQ GEMV layout', { ...configOf(AWQ), version: 'gemv' }, /AWQ version 'gemv' is not supported/],
    ['AWQ without zero points', { ...configOf(AWQ), zero_point: false }, /zero_point: false\) is not supported/],
    ['AWQ with desc_act', { ...configOf(AWQ), desc_act: true }, /desc_act: true with AWQ/],
  ];
  it.each(cases)('%s', async (_, config, message) => {
    await refused(write(_.startsWith('AWQ') ? AWQ : GPTQ, undefined, config), message);
  });
  it('a config file over 1 MiB, and quantize_config.json that is not JSON', async () => {
    const d = write(GPTQ);
    fs.rmSync(path.join(d, 'config.json'));
    fs.writeFileSync(path.join(d, 'quantize_config.json'), `{"bits": 4, "group_size": 16, "pad": "${' '.repeat(1 << 20)}"}`);
    await refused(d, /quantize_config\.json: is \d+ bytes \(a config is at most 1048576\)/);
    fs.writeFileSync(path.join(d, 'quantize_config.json'), '{"bits": 4,');
    await refused(d, /quantize_config\.json: not valid JSON/);
  });
  it('AutoGPTQ and AutoAWQ config files, with their own field names', () => {
    expect(parseQuantConfig({ bits: 4, group_size: 128, desc_act: true }, 'q.json', 'gptq')).toMatchObject({ method: 'gptq', descAct: true, zeroOffset: 1 });
    expect(parseQuantConfig({ w_bit: 4, q_group_size: 64, zero_point: true, version: 'GEMM' }, 'q.json', 'awq')).toMatchObject({ method: 'awq', bits: 4, groupSize: 64, zeroOffset: 0 });
    expect(parseQuantConfig({ quant_method: 'gptq', bits: 8, group_size: -1, checkpoint_format: 'gptq_v2' }, 'c.json')).toMatchObject({ zeroOffset: 0, groupSize: -1 });
  });
});

describe('packed tensor rules', () => {
  const cases: [string, PackedSpec, (t: TensorData[]) => TensorData[], RegExp][] = [
    ['qweight without qzeros', GPTQ, without('qzeros'), /has no model\.layers\.0\.mlp\.up_proj\.qzeros beside it/],
    ['qweight without scales', GPTQ, without('scales'), /has no model\.layers\.0\.mlp\.up_proj\.scales beside it/],
    ['qzeros without qweight', GPTQ, without('qweight'), /qzeros': has no model\.layers\.0\.mlp\.up_proj\.qweight beside it/],
    ['g_idx without qweight', AWQ, (t) => [...without('qweight')(without('qzeros')(t)), { name: `${PREFIX}.g_idx`, dtype: 'I32', shape: [20], data: new Int32Array(20) }], /g_idx': has no .*qweight beside it/],
    ['weight beside qweight', GPTQ, (t) => [...t, { name: `${PREFIX}.weight`, dtype: 'F32', shape: [12, 48], data: new Float32Array(576) }], /up_proj\.weight is also present/],
    ['qweight not I32', GPTQ, changed('qweight', { dtype: 'F32' }), /qweight must be I32, not F32/],
    ['qweight not 2-D', GPTQ, changed('qweight', { shape: [72] }), /qweight must be 2-D/],
    ['qzeros not I32', GPTQ, changed('qzeros', { dtype: 'F32' }), /qzeros must be I32/],
    ['scales not a float type', GPTQ, changed('scales', { dtype: 'I32', data: new Int32Array(36) }), /scales must be F16 or BF16 or F32, not I32/],
    ['g_idx in an AWQ model', AWQ, (t) => [...t, { name: `${PREFIX}.g_idx`, dtype: 'I32', shape: [20], data: new Int32Array(20) }], /an AWQ checkpoint has no g_idx/],
    ['g_idx not I32', GPTQ, changed('g_idx', { dtype: 'F32' }), /g_idx must be a 1-D I32 tensor, not F32/],
    ['desc_act without g_idx', GPTQ, without('g_idx'), /desc_act is set in .*config\.json but there is no .*g_idx/],
    ['g_idx length is not qweight rows × pack', GPTQ, changed('g_idx', { shape: [40], data: new Int32Array(40) }), /g_idx has 40 entries but qweight's 6 rows × 8 = 48 input features/],
    ['GPTQ scales columns are not qweight columns', GPTQ, changed('scales', { shape: [3, 11], data: new Float32Array(33) }), /scales have 11 columns but qweight 12 output features/],
    ['scales rows are not ceil(in / group_size)', GPTQ, (t) => changed('g_idx', { data: new Int32Array(48) })(changed('scales', { shape: [4, 12], data: new Float32Array(48) })(changed('qzeros', { shape: [4, 2], data: new Int32Array(8) })(t))), /scales have 4 rows \(groups\) but 48 inputs in groups of 16 make 3/],
    ['qzeros shape', GPTQ, changed('qzeros', { shape: [3, 1], data: new Int32Array(3) }), /qzeros are \[3, 1\], expected \[groups 3, ceil\(12 × 4 \/ 32\) = 2\]/],
    ['AWQ qweight columns are not ceil(out / 8)', AWQ, changed('qweight', { shape: [20, 1], data: new Int32Array(20) }), /AWQ qweight has 1 columns; scales' 12 outputs need ceil\(12\/8\) = 2/],
    ['g_idx value not a group', GPTQ, (t) => changed('g_idx', { data: Int32Array.from({ length: 48 }, (_, i) => (i === 17 ? 3 : 0)) })(t), /g_idx\[17\] = 3 is not a group \(0\.\.2\)/],
    ['g_idx value negative', GPTQ, (t) => changed('g_idx', { data: Int32Array.from({ length: 48 }, (_, i) => (i === 5 ? -1 : 0)) })(t), /g_idx\[5\] = -1 is not a group/],
  ];
  it.each(cases)('%s', async (_, spec, edit, message) => {
    await refused(write(spec, edit), message);
    await refused(write(spec, edit), /tensor '/);
  });
  it('rows of words that do not hold whole inputs (3-bit)', async () => {
    await refused(write(GPTQ, changed('qweight', { shape: [4, 12], data: new Int32Array(48) }), { ...configOf(GPTQ), bits: 3 }), /qweight': 4 rows of 3-bit words do not hold whole inputs/);
  });
  it('packed tensors need a quantization config of their kind', async () => {
    const d = write(GPTQ);
    fs.rmSync(path.join(d, 'config.json'));
    await refused(d, /is a packed GPTQ\/AWQ weight but .* has no quantization config/);
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ quantization_config: { quant_method: 'fp8' } }));
    await refused(d, /says quant_method 'fp8'/);
  });
});

test('a g_idx changed on disk after discovery is refused by the native scan, naming the file and tensor', async () => {
  const d = write(GPTQ);
  const set = await openModels([d]);
  const t = set.models[0].tensors[0].packed!.gIdx!;
  const bad = Buffer.alloc(4);
  bad.writeInt32LE(99);
  const fd = fs.openSync(t.file, 'r+');
  fs.writeSync(fd, bad, 0, 4, t.offset + 4 * 7);
  fs.closeSync(fd);
  const err = await scanModelSet(set, { device: 'cpu' }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(/model\.safetensors: tensor 'model\.layers\.0\.mlp\.up_proj\.weight': g_idx\[7\] = 99 is not a group \(0\.\.2\)/);
});
