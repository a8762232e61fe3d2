/**
 * GPTQ/AWQ fixtures for the tests: a Hugging Face directory holding one packed Linear whose
 * parts are random bits (every word pattern, random finite scales, random g_idx), written as
 * safetensors with a config.json quantization_config.
 */
import * as fs from 'fs';
import * as path from 'path';
import { bf16BitsToFloat, f16BitsToFloat, floatToBf16Bits, floatToF16Bits } from '../../lib/io/dtype';
import type { PackedParts } from '../../lib/io/packed-quant-ref';
import { TensorData, writeSafetensors } from '../../lib/io/safetensors-writer';

export interface PackedSpec {
  method: 'gptq' | 'awq';
  bits: 4 | 8;
  in: number;
  out: number;
  groupSize: number;
  zeroOffset?: 0 | 1;
  /** Random g_idx values (GPTQ act order); otherwise i / groupSize, still written for GPTQ. */
  actOrder?: boolean;
  scalesDtype?: 'F16' | 'BF16' | 'F32';
}

export const PREFIX = 'model.layers.0.mlp.up_proj';

/** Random finite scales of a dtype, as float32 values that dtype holds exactly. */
function randomScale(dtype: 'F16' | 'BF16' | 'F32', random: () => number): number {
  for (;;) {
    const bits = Math.floor(random() * 65536);
    if (dtype === 'F16' && ((bits >> 10) & 0x1f) !== 0x1f) return f16BitsToFloat(bits);
    if (dtype === 'BF16' && ((bits >> 7) & 0xff) !== 0xff) return bf16BitsToFloat(bits);
    if (dtype === 'F32') return Math.fround((random() * 2 - 1) * 2 ** (Math.floor(random() * 40) - 30));
  }
}

function bytesOf(a: Uint32Array | Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** The packed tensors of `spec` with random contents, and the same as PackedParts for the reference. */
export function randomPacked(spec: PackedSpec, random: () => number): { tensors: TensorData[]; parts: PackedParts } {
  const pack = 32 / spec.bits, sd = spec.scalesDtype ?? 'F16';
  const groups = spec.groupSize === -1 ? 1 : Math.ceil(spec.in / spec.groupSize);
  const zeroCols = Math.ceil(spec.out / pack);
  const awq = spec.method === 'awq';
  const qRows = awq ? spec.in : spec.in / pack, qCols = awq ? zeroCols : spec.out;
  const word = () => Math.floor(random() * 2 ** 32);
  const qweight = Uint32Array.from({ length: qRows * qCols }, word);
  const qzeros = Uint32Array.from({ length: groups * zeroCols }, word);
  const scales = Float32Array.from({ length: groups * spec.out }, () => randomScale(sd, random));
  const tensors: TensorData[] = [
    { name: `${PREFIX}.qweight`, dtype: 'I32', shape: [qRows, qCols], data: qweight },
    { name: `${PREFIX}.qzeros`, dtype: 'I32', shape: [groups, zeroCols], data: qzeros },
    { name: `${PREFIX}.scales`, dtype: sd, shape: [groups, spec.out], data: scales },
  ];
  const parts: PackedParts = {
    method: spec.method, bits: spec.bits, in: spec.in, out: spec.out, groups, groupSize: spec.groupSize, zeroOffset: spec.zeroOffset ?? (awq ? 0 : 1),
    qweight: bytesOf(qweight), qzeros: bytesOf(qzeros),
    scales: sd === 'F32' ? bytesOf(scales) : bytesOf(new Uint32Array(0)), scalesDtype: sd,
  };
  if (sd !== 'F32') {
    // 16-bit scales: their bits, as the writer encodes them (exact for these values).
    const b = Buffer.alloc(scales.length * 2);
    scales.forEach((v, i) => b.writeUInt16LE(sd === 'F16' ? floatToF16Bits(v) : floatToBf16Bits(v), i * 2));
    parts.scales = b;
  }
  if (!awq) {
    const size = spec.groupSize === -1 ? spec.in : spec.groupSize;
    const g = Int32Array.from({ length: spec.in }, (_, i) => (spec.actOrder ? Math.floor(random() * groups) : Math.floor(i / size)));
    tensors.push({ name: `${PREFIX}.g_idx`, dtype: 'I32', shape: [spec.in], data: g });
    parts.gIdx = bytesOf(g);
  }
  return { tensors, parts };
}

/** The quantization_config of a spec. */
export function configOf(spec: PackedSpec): Record<string, unknown> {
  if (spec.method === 'awq') return { quant_method: 'awq', bits: 4, group_size: spec.groupSize, zero_point: true, version: 'gemm' };
  return { quant_method: 'gptq', bits: spec.bits, group_size: spec.groupSize, desc_act: Boolean(spec.actOrder), sym: true, checkpoint_format: (spec.zeroOffset ?? 1) ? 'gptq' : 'gptq_v2' };
}

/** Writes a model directory: the packed Linear plus `extra` tensors, and config.json. */
export function writePackedDir(dir: string, spec: PackedSpec, random: () => number, extra: TensorData[] = [], config?: Record<string, unknown>): PackedParts {
  const { tensors, parts } = randomPacked(spec, random);
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), [...tensors, ...extra]);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', quantization_config: config ?? configOf(spec) }));
  return parts;
}
