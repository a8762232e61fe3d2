/**
 * Writes GPTQ and AWQ checkpoints for tests, benchmarks and the zoo. The quantizer is plain
 * round-to-nearest with a per-group, per-output scale and zero point (min/max of the group):
 * valid GPTQ/AWQ files that every loader reads the same way, but NOT the GPTQ algorithm (no
 * Hessian, no error feedback) nor AWQ's activation-aware scaling. With `actOrder`, inputs are
 * assigned to groups through a seeded permutation and g_idx, as GPTQ's desc_act does.
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError } from '../errors';
import { f16BitsToFloat, floatToF16Bits, isFloatDtype } from './dtype';
import { AWQ_SLOT } from './packed-quant-ref';
import { TensorData, writeSafetensors } from './safetensors-writer';
import { readTensorValues } from './tensor-data';
import type { ModelSource } from './types';

export interface PackOptions {
  method: 'gptq' | 'awq';
  bits: 4 | 8;
  /** Inputs per group; -1: one group over all inputs (GPTQ only). */
  groupSize: number;
  /** GPTQ: groups through a permutation and g_idx (desc_act). */
  actOrder?: boolean;
  /** GPTQ: 1 writes the original format (zeros stored minus one), 0 gptq_v2. Default 1. */
  zeroOffset?: 0 | 1;
  /** Seed of the act-order permutation. */
  seed?: number;
  /** Write g_idx even without act order (AutoGPTQ always does). Default true for GPTQ. */
  writeGroupIndex?: boolean;
}

export interface PackedTensors {
  /** int32 words as unsigned numbers. */
  qweight: Uint32Array;
  qweightShape: [number, number];
  qzeros: Uint32Array;
  qzerosShape: [number, number];
  /** Values exactly representable in F16. */
  scales: Float32Array;
  scalesShape: [number, number];
  gIdx?: Int32Array;
}

function checkOptions(o: PackOptions, inF: number): void {
  const fail = (why: string): never => {
    throw new InvalidArgumentError('E_INVALID_ARG', `packed-quant writer: ${why}`);
  };
  if (o.bits !== 4 && o.bits !== 8) fail('bits must be 4 or 8');
  if (o.method === 'awq' && (o.bits !== 4 || o.groupSize === -1 || o.actOrder)) fail('AWQ is 4-bit with a fixed group size and no act order');
  if (o.groupSize !== -1 && !(Number.isInteger(o.groupSize) && o.groupSize >= 1)) fail('groupSize must be -1 or a positive integer');
  if (o.method === 'gptq' && inF % (32 / o.bits) !== 0) fail(`GPTQ packs ${32 / o.bits} inputs per word; ${inF} inputs do not fill whole words`);
}

/** A seeded permutation of 0..n-1 (xorshift32 Fisher–Yates: only needs to be reproducible). */
function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Quantizes a row-major weight [out, in] to packed words, scales, zeros (and g_idx). */
export function quantizePacked(w: Float32Array, out: number, inF: number, o: PackOptions): PackedTensors {
  checkOptions(o, inF);
  const bits = o.bits, pack = 32 / bits, maxq = 2 ** bits - 1;
  const zeroOffset = o.method === 'gptq' ? (o.zeroOffset ?? 1) : 0;
  const size = o.groupSize === -1 ? inF : o.groupSize;
  const groups = Math.ceil(inF / size);
  const group = new Int32Array(inF);
  if (o.actOrder) permutation(inF, o.seed ?? 0).forEach((i, j) => (group[i] = Math.floor(j / size)));
  else for (let i = 0; i < inF; i++) group[i] = Math.floor(i / size);
  const scales = new Float32Array(groups * out);
  const zeros = new Int32Array(groups * out);
  const lo = new Float64Array(groups), hi = new Float64Array(groups);
  for (let r = 0; r < out; r++) {
    lo.fill(0);
    hi.fill(0); // the range always holds 0, so a zero weight is exact
    for (let i = 0; i < inF; i++) {
      const v = w[r * inF + i], g = group[i];
      if (v < lo[g]) lo[g] = v;
      if (v > hi[g]) hi[g] = v;
    }
    for (let g = 0; g < groups; g++) {
      // The step, rounded up to F16 (scales are stored in F16), so the group's range fits maxq steps.
      const raw = (hi[g] - lo[g]) / maxq;
      let s = f16BitsToFloat(floatToF16Bits(raw));
      if (s < raw) s = f16BitsToFloat(floatToF16Bits(raw) + 1);
      if (!(s > 0) || !Number.isFinite(s)) s = 1;
      scales[g * out + r] = s;
      // The zero point the format can store: 0..maxq, or 1..maxq+1 in GPTQ's original format.
      zeros[g * out + r] = Math.min(maxq + zeroOffset, Math.max(zeroOffset, Math.round(-lo[g] / s)));
    }
  }
  const zeroCols = Math.ceil(out / pack);
  const qzeros = new Uint32Array(groups * zeroCols);
  const field = (o2: number) => (o.method === 'awq' ? 4 * AWQ_SLOT[o2 % 8] : bits * (o2 % pack));
  for (let g = 0; g < groups; g++)
    for (let r = 0; r < out; r++) qzeros[g * zeroCols + Math.floor(r / pack)] |= (zeros[g * out + r] - zeroOffset) << field(r);
  const weightRows = o.method === 'awq' ? inF : inF / pack, weightCols = o.method === 'awq' ? zeroCols : out;
  const qweight = new Uint32Array(weightRows * weightCols);
  for (let r = 0; r < out; r++)
    for (let i = 0; i < inF; i++) {
      const g = group[i], s = scales[g * out + r];
      const q = Math.min(maxq, Math.max(0, Math.round(w[r * inF + i] / s) + zeros[g * out + r]));
      if (o.method === 'awq') qweight[i * weightCols + Math.floor(r / 8)] |= q << field(r);
      else qweight[Math.floor(i / pack) * weightCols + r] |= q << (bits * (i % pack));
    }
  const result: PackedTensors = {
    qweight, qweightShape: [weightRows, weightCols], qzeros, qzerosShape: [groups, zeroCols], scales, scalesShape: [groups, out],
  };
  if (o.method === 'gptq' && (o.actOrder || o.writeGroupIndex !== false)) result.gIdx = group;
  return result;
}

/** The safetensors tensors of one packed Linear `<prefix>.*`. */
export function packedTensorData(prefix: string, p: PackedTensors): TensorData[] {
  const t: TensorData[] = [
    { name: `${prefix}.qweight`, dtype: 'I32', shape: p.qweightShape, data: p.qweight },
    { name: `${prefix}.qzeros`, dtype: 'I32', shape: p.qzerosShape, data: p.qzeros },
    { name: `${prefix}.scales`, dtype: 'F16', shape: p.scalesShape, data: p.scales },
  ];
  if (p.gIdx) t.push({ name: `${prefix}.g_idx`, dtype: 'I32', shape: [p.gIdx.length], data: p.gIdx });
  return t;
}

/** The quantization_config transformers writes into config.json for these options. */
export function quantizationConfig(o: PackOptions): Record<string, unknown> {
  if (o.method === 'awq') return { quant_method: 'awq', bits: 4, group_size: o.groupSize, zero_point: true, version: 'gemm' };
  return {
    quant_method: 'gptq', bits: o.bits, group_size: o.groupSize, desc_act: Boolean(o.actOrder), sym: false,
    checkpoint_format: (o.zeroOffset ?? 1) === 1 ? 'gptq' : 'gptq_v2',
  };
}

/** Which weights a quantizer packs: the Linear layers inside decoder blocks (not embeddings,
 * lm_head or norms), as AutoGPTQ and AutoAWQ do; and only where the inputs fill whole words. */
export function isPackable(name: string, shape: number[], o: PackOptions): boolean {
  return shape.length === 2 && /\.layers\.\d+\..*_proj\.weight$/.test(name) && (o.method === 'awq' || shape[1] % (32 / o.bits) === 0);
}

/**
 * Writes `model` (any format discovery reads) as a GPTQ/AWQ Hugging Face directory at
 * `outDir`: model.safetensors with the decoder Linears packed and every other float tensor in
 * its own dtype, and config.json (the source's, if it has one) with quantization_config.
 * Returns the names of the packed weights.
 */
export function writePackedModel(model: ModelSource, outDir: string, o: PackOptions): string[] {
  const tensors: TensorData[] = [];
  const packed: string[] = [];
  for (const t of model.tensors) {
    if (!isFloatDtype(t.dtype) && !t.packed) continue;
    const values = readTensorValues(t);
    if (isPackable(t.name, t.shape, o)) {
      tensors.push(...packedTensorData(t.name.slice(0, -'.weight'.length), quantizePacked(values, t.shape[0], t.shape[1], { ...o, seed: (o.seed ?? 0) + packed.length })));
      packed.push(t.name);
    } else {
      tensors.push({ name: t.name, dtype: isFloatDtype(t.dtype) ? t.dtype : 'F32', shape: t.shape, data: values });
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  let config: Record<string, unknown> = {};
  const source = path.join(model.path, 'config.json');
  if (fs.statSync(model.path).isDirectory() && fs.existsSync(source)) config = JSON.parse(fs.readFileSync(source, 'utf8')) as Record<string, unknown>;
  config.quantization_config = quantizationConfig(o);
  writeSafetensors(path.join(outDir, 'model.safetensors'), tensors);
  fs.writeFileSync(path.join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return packed;
}
