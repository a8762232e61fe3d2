/**
 * The float reference of GPTQ/AWQ unpacking, in plain TypeScript, element by element from
 * the raw parts: what native/core/scan_packed.cc must reproduce bit for bit. For output o and
 * input i of the torch weight [out, in]:
 *   GPTQ: q = bits of qweight[floor(i / pack)][o] at bits·(i mod pack)
 *   AWQ:  q = nibble AWQ_SLOT[o mod 8] of qweight[i][floor(o / 8)]
 *   g = g_idx[i], or floor(i / groupSize)
 *   zero = (the same field of qzeros[g][floor(o / pack)] for o) + zeroOffset
 *   value = float32(scale[g][o] · (q − zero))
 * (q − zero is a small integer and scale a float32, so the float64 product is exact and one
 * rounding gives the float32 product the native code computes.)
 */
import { decodeToFloat32, FloatDtype } from './dtype';
import type { PackedLayout } from './types';

/** AWQ's packing order: output o mod 8 = j sits in nibble AWQ_SLOT[j] of its word. */
export const AWQ_SLOT = [0, 4, 1, 5, 2, 6, 3, 7] as const;

/** The numbers that place every packed value (PackedLayout's, without its tensors); groupSize
 * -1 is one group over all inputs (used only without gIdx). */
export type PackedGeometry = Pick<PackedLayout, 'method' | 'bits' | 'in' | 'out' | 'groups' | 'groupSize'> & { zeroOffset: number };

export interface PackedParts extends PackedGeometry {
  /** Raw little-endian bytes of each part as stored. */
  qweight: Uint8Array;
  qzeros: Uint8Array;
  scales: Uint8Array;
  scalesDtype: FloatDtype;
  gIdx?: Uint8Array;
}

function words(b: Uint8Array): Uint32Array {
  const out = new Uint32Array(b.length >> 2);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4, true);
  return out;
}

/** Bit position of output o's field in its packed word (zeros for both methods, AWQ weights). */
function outShift(method: 'gptq' | 'awq', bits: number, o: number): number {
  return method === 'awq' ? 4 * AWQ_SLOT[o % 8] : bits * (o % (32 / bits));
}

/** Elements [start, start + count) of the weight [out, in], row-major, as float32. */
export function unpackPackedRef(p: PackedParts, start = 0, count = p.in * p.out): Float32Array {
  const pack = 32 / p.bits, mask = 2 ** p.bits - 1;
  const qw = words(p.qweight), qz = words(p.qzeros);
  const scales = decodeToFloat32(Buffer.from(p.scales.buffer, p.scales.byteOffset, p.scales.byteLength), p.scalesDtype);
  const gIdx = p.gIdx ? new Int32Array(words(p.gIdx).buffer) : undefined;
  const zeroCols = Math.ceil(p.out / pack), weightCols = p.method === 'awq' ? zeroCols : p.out;
  const out = new Float32Array(count);
  for (let e = 0; e < count; e++) {
    const o = Math.floor((start + e) / p.in), i = (start + e) % p.in;
    const word = p.method === 'awq' ? qw[i * weightCols + Math.floor(o / 8)] : qw[Math.floor(i / pack) * weightCols + o];
    const shift = p.method === 'awq' ? outShift('awq', 4, o) : p.bits * (i % pack);
    const q = (word >>> shift) & mask;
    const g = gIdx ? gIdx[i] : Math.floor(i / (p.groupSize === -1 ? p.in : p.groupSize));
    if (!(g >= 0 && g < p.groups)) throw new RangeError(`g_idx[${i}] = ${g} is not a group (0..${p.groups - 1})`);
    const zero = ((qz[g * zeroCols + Math.floor(o / pack)] >>> outShift(p.method, p.bits, o)) & mask) + p.zeroOffset;
    out[e] = Math.fround(scales[g * p.out + o] * (q - zero));
  }
  return out;
}
