/**
 * Simple quantizers to ggml block formats, for writing test fixtures: round to nearest with
 * scales chosen so that no value is clipped. They produce valid blocks that any GGUF reader
 * decodes, but they are NOT llama.cpp's quantizers (no importance weighting, no search over
 * scales), so their bytes differ from llama-quantize's for the same input.
 */
import { InvalidArgumentError } from '../errors';
import { encodeFloats, floatToF16Bits } from './dtype';
import { f16ToF32 } from './gguf-quant-ref';
import { ggmlType } from './gguf-types';

export const QUANTIZE_TYPES = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q4_K'] as const;
export type QuantizeType = (typeof QUANTIZE_TYPES)[number];

/** A float32 value rounded to f16: the bits to store and the value the decoder will see. */
function half(x: number): { bits: number; value: number } {
  const bits = floatToF16Bits(x);
  return { bits, value: f16ToF32(bits) };
}
const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
function writeHalf(out: Uint8Array, o: number, bits: number): void {
  out[o] = bits & 0xff;
  out[o + 1] = bits >> 8;
}
// f16 rounds to nearest, so a scale may come out slightly smaller than asked; asking this much
// more keeps the largest value inside the quant range.
const F16_SLACK = 1 + 2 ** -10;

function q8_0(x: Float32Array, o: number, out: Uint8Array, bo: number): void {
  let amax = 0;
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
  const d = half((amax / 127) * F16_SLACK);
  writeHalf(out, bo, d.bits);
  for (let j = 0; j < 32; j++) out[bo + 2 + j] = (d.value ? clamp(Math.round(x[o + j] / d.value), -127, 127) : 0) & 0xff;
}

function q4_0(x: Float32Array, o: number, out: Uint8Array, bo: number): void {
  let amax = 0;
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
  const d = half((amax / 7) * F16_SLACK);
  writeHalf(out, bo, d.bits);
  const q = (v: number): number => (d.value ? clamp(Math.round(v / d.value), -8, 7) : 0) + 8;
  for (let j = 0; j < 16; j++) out[bo + 2 + j] = q(x[o + j]) | (q(x[o + j + 16]) << 4);
}

function q4_1(x: Float32Array, o: number, out: Uint8Array, bo: number): void {
  let lo = Infinity, hi = -Infinity;
  for (let j = 0; j < 32; j++) {
    lo = Math.min(lo, x[o + j]);
    hi = Math.max(hi, x[o + j]);
  }
  const m = half(lo);
  const d = half(((hi - m.value) / 15) * F16_SLACK);
  writeHalf(out, bo, d.bits);
  writeHalf(out, bo + 2, m.bits);
  const q = (v: number): number => (d.value ? clamp(Math.round((v - m.value) / d.value), 0, 15) : 0);
  for (let j = 0; j < 16; j++) out[bo + 4 + j] = q(x[o + j]) | (q(x[o + j + 16]) << 4);
}

/** Packs 8 six-bit scales and mins the way Q4_K / Q5_K store them (12 bytes). */
function packScalesK4(sc: number[], mn: number[], out: Uint8Array, o: number): void {
  for (let j = 0; j < 4; j++) {
    out[o + j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
    out[o + j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6);
    out[o + j + 8] = (sc[j + 4] & 0xf) | ((mn[j + 4] & 0xf) << 4);
  }
}

function q4_k(x: Float32Array, o: number, out: Uint8Array, bo: number): void {
  // Sub-block j of 32 values covers [-offset_j, range_j - offset_j] with offset_j = -min(0, min).
  const offs: number[] = [], maxs: number[] = [];
  for (let j = 0; j < 8; j++) {
    let lo = 0, hi = 0;
    for (let l = 0; l < 32; l++) {
      lo = Math.min(lo, x[o + 32 * j + l]);
      hi = Math.max(hi, x[o + 32 * j + l]);
    }
    offs.push(-lo);
    maxs.push(hi);
  }
  const dmin = half((Math.max(...offs) / 63) * F16_SLACK);
  const mn = offs.map((v) => (dmin.value ? clamp(Math.ceil(v / dmin.value), 0, 63) : 0));
  // The stored offset rounds up, so each sub-block's range grows by what the rounding added.
  const mins = mn.map((m) => Math.fround(dmin.value * m));
  const ranges = maxs.map((hi, j) => hi + mins[j]);
  const d = half((Math.max(...ranges) / (15 * 63)) * F16_SLACK);
  const sc = ranges.map((r) => (d.value ? clamp(Math.ceil(r / (15 * d.value)), 0, 63) : 0));
  writeHalf(out, bo, d.bits);
  writeHalf(out, bo + 2, dmin.bits);
  packScalesK4(sc, mn, out, bo + 4);
  for (let j = 0; j < 8; j += 2) {
    const s1 = Math.fround(d.value * sc[j]), s2 = Math.fround(d.value * sc[j + 1]);
    for (let l = 0; l < 32; l++) {
      const a = s1 ? clamp(Math.round((x[o + 32 * j + l] + mins[j]) / s1), 0, 15) : 0;
      const b = s2 ? clamp(Math.round((x[o + 32 * (j + 1) + l] + mins[j + 1]) / s2), 0, 15) : 0;
      out[bo + 16 + 16 * j + l] = a | (b << 4);
    }
  }
}

const blockQuantizers = { Q8_0: q8_0, Q4_0: q4_0, Q4_1: q4_1, Q4_K: q4_k } as const;

/** Encodes float values as `type` (F32/F16/BF16 by conversion, the rest by quantization). */
export function quantize(type: QuantizeType, values: Float32Array): Uint8Array {
  if (type === 'F32' || type === 'F16' || type === 'BF16') return new Uint8Array(encodeFloats(values, type));
  const t = ggmlType(type);
  const fn = blockQuantizers[type as keyof typeof blockQuantizers];
  if (!t || !fn) throw new InvalidArgumentError('E_INVALID_ARG', `quantize: unsupported type ${type}`);
  if (values.length % t.blockElems !== 0)
    throw new InvalidArgumentError('E_INVALID_ARG', `quantize: ${values.length} values is not a whole number of ${type} blocks of ${t.blockElems}`);
  const n = values.length / t.blockElems;
  const out = new Uint8Array(n * t.blockBytes);
  for (let i = 0; i < n; i++) fn(values, i * t.blockElems, out, i * t.blockBytes);
  return out;
}
