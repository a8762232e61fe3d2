/**
 * Reference dequantizers for GGUF block formats in plain TypeScript, bit for bit equal to the
 * native ones (native/core/gguf_quant.cc). Every intermediate is float32: `fr` (Math.fround)
 * rounds after each operation the C code rounds, in the same order:
 *   Q8_0, Q4_0, Q5_0:   y = q * d
 *   Q4_1, Q5_1:         y = (q * d) + m
 *   Q2_K, Q4_K, Q5_K:   y = ((d * sc) * q) - (dmin * m)
 *   Q3_K:               y = (d * (sc - 32)) * q
 *   Q6_K:               y = (d * sc) * q
 * A float32 product or difference computed in float64 and then rounded once is the correctly
 * rounded float32 result, so these match the C float arithmetic exactly.
 */
import { InvalidArgumentError } from '../errors';
import { DequantType, ggmlType } from './gguf-types';

const fr = Math.fround;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits -> float32, exact (NaN payloads kept, as the native conversion does). */
export function f16ToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let man = h & 0x3ff;
  let bits: number;
  if (exp === 0) {
    if (man === 0) bits = sign;
    else {
      let e = -1;
      do { e++; man <<= 1; } while ((man & 0x400) === 0);
      bits = sign | ((127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp === 31) bits = sign | 0x7f800000 | (man << 13);
  else bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
  u32[0] = bits >>> 0;
  return f32[0];
}

function f16At(b: Uint8Array, o: number): number {
  return f16ToF32(b[o] | (b[o + 1] << 8));
}
function i8(x: number): number {
  return (x << 24) >> 24;
}

function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

type BlockFn = (b: Uint8Array, o: number, y: Float32Array, yo: number) => void;

const blocks: Partial<Record<DequantType, BlockFn>> = {
  Q4_0(b, o, y, yo) {
    const d = f16At(b, o);
    for (let j = 0; j < 16; j++) {
      const q = b[o + 2 + j];
      y[yo + j] = fr(((q & 0xf) - 8) * d);
      y[yo + j + 16] = fr(((q >> 4) - 8) * d);
    }
  },
  Q4_1(b, o, y, yo) {
    const d = f16At(b, o), m = f16At(b, o + 2);
    for (let j = 0; j < 16; j++) {
      const q = b[o + 4 + j];
      y[yo + j] = fr(fr((q & 0xf) * d) + m);
      y[yo + j + 16] = fr(fr((q >> 4) * d) + m);
    }
  },
  Q5_0(b, o, y, yo) {
    const d = f16At(b, o);
    const qh = (b[o + 2] | (b[o + 3] << 8) | (b[o + 4] << 16) | (b[o + 5] << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = b[o + 6 + j];
      const h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
      y[yo + j] = fr((((q & 0xf) | h0) - 16) * d);
      y[yo + j + 16] = fr((((q >> 4) | h1) - 16) * d);
    }
  },
  Q5_1(b, o, y, yo) {
    const d = f16At(b, o), m = f16At(b, o + 2);
    const qh = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = b[o + 8 + j];
      const h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
      y[yo + j] = fr(fr(((q & 0xf) | h0) * d) + m);
      y[yo + j + 16] = fr(fr(((q >> 4) | h1) * d) + m);
    }
  },
  Q8_0(b, o, y, yo) {
    const d = f16At(b, o);
    for (let j = 0; j < 32; j++) y[yo + j] = fr(i8(b[o + 2 + j]) * d);
  },
  Q2_K(b, o, y, yo) {
    const d = f16At(b, o + 80), dmin = f16At(b, o + 82);
    let q = o + 16, is = 0, k = yo;
    for (let n = 0; n < 256; n += 128) {
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 2; half++) {
          const sc = b[o + is++];
          const dl = fr(d * (sc & 0xf)), ml = fr(dmin * (sc >> 4));
          for (let l = 0; l < 16; l++) y[k++] = fr(fr(dl * ((b[q + 16 * half + l] >> shift) & 3)) - ml);
        }
      }
      q += 32;
    }
  },
  Q3_K(b, o, y, yo) {
    const hm = o, s = o + 96, dAll = f16At(b, o + 108);
    const scales = new Int8Array(16);
    for (let i = 0; i < 16; i++) {
      const low = i < 8 ? b[s + i] & 0xf : b[s + i - 8] >> 4;
      const high = (b[s + 8 + (i & 3)] >> (2 * (i >> 2))) & 3;
      scales[i] = low | (high << 4);
    }
    let q = o + 32, is = 0, m = 1, k = yo;
    for (let n = 0; n < 256; n += 128) {
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 2; half++) {
          const dl = fr(dAll * (scales[is++] - 32));
          for (let l = 0; l < 16; l++) {
            const v = ((b[q + 16 * half + l] >> shift) & 3) - ((b[hm + 16 * half + l] & m) ? 0 : 4);
            y[k++] = fr(dl * v);
          }
        }
        m <<= 1;
      }
      q += 32;
    }
  },
  Q4_K(b, o, y, yo) {
    const d = f16At(b, o), dmin = f16At(b, o + 2);
    let q = o + 16, k = yo;
    for (let is = 0; is < 8; is += 2) {
      const [sc1, m1i] = scaleMinK4(is, b, o + 4), [sc2, m2i] = scaleMinK4(is + 1, b, o + 4);
      const d1 = fr(d * sc1), m1 = fr(dmin * m1i), d2 = fr(d * sc2), m2 = fr(dmin * m2i);
      for (let l = 0; l < 32; l++) y[k++] = fr(fr(d1 * (b[q + l] & 0xf)) - m1);
      for (let l = 0; l < 32; l++) y[k++] = fr(fr(d2 * (b[q + l] >> 4)) - m2);
      q += 32;
    }
  },
  Q5_K(b, o, y, yo) {
    const d = f16At(b, o), dmin = f16At(b, o + 2);
    const qh = o + 16;
    let ql = o + 48, k = yo, u1 = 1, u2 = 2;
    for (let is = 0; is < 8; is += 2) {
      const [sc1, m1i] = scaleMinK4(is, b, o + 4), [sc2, m2i] = scaleMinK4(is + 1, b, o + 4);
      const d1 = fr(d * sc1), m1 = fr(dmin * m1i), d2 = fr(d * sc2), m2 = fr(dmin * m2i);
      for (let l = 0; l < 32; l++) y[k++] = fr(fr(d1 * ((b[ql + l] & 0xf) + (b[qh + l] & u1 ? 16 : 0))) - m1);
      for (let l = 0; l < 32; l++) y[k++] = fr(fr(d2 * ((b[ql + l] >> 4) + (b[qh + l] & u2 ? 16 : 0))) - m2);
      ql += 32;
      u1 <<= 2;
      u2 <<= 2;
    }
  },
  Q6_K(b, o, y, yo) {
    const d = f16At(b, o + 208);
    let ql = o, qh = o + 128, sc = o + 192, k = yo;
    for (let n = 0; n < 256; n += 128) {
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const q1 = ((b[ql + l] & 0xf) | (((b[qh + l] >> 0) & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32] & 0xf) | (((b[qh + l] >> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l] >> 4) | (((b[qh + l] >> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32] >> 4) | (((b[qh + l] >> 6) & 3) << 4)) - 32;
        y[k + l] = fr(fr(d * i8(b[sc + is])) * q1);
        y[k + l + 32] = fr(fr(d * i8(b[sc + is + 2])) * q2);
        y[k + l + 64] = fr(fr(d * i8(b[sc + is + 4])) * q3);
        y[k + l + 96] = fr(fr(d * i8(b[sc + is + 6])) * q4);
      }
      k += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  },
};

/** Dequantizes `elements` elements (whole blocks) of `type` from `bytes`. */
export function dequantizeRef(type: DequantType, bytes: Uint8Array, elements: number): Float32Array {
  const t = ggmlType(type);
  if (!t || !t.dequantizable) throw new InvalidArgumentError('E_INVALID_ARG', `dequantizeRef: unsupported type ${type}`);
  if (elements % t.blockElems !== 0) throw new InvalidArgumentError('E_INVALID_ARG', `dequantizeRef: ${elements} elements is not a whole number of ${type} blocks`);
  const n = elements / t.blockElems;
  if (bytes.length < n * t.blockBytes) throw new InvalidArgumentError('E_INVALID_ARG', `dequantizeRef: ${n} blocks need ${n * t.blockBytes} bytes`);
  const y = new Float32Array(elements);
  const yBits = new Uint32Array(y.buffer);
  if (type === 'F32') {
    for (let i = 0; i < n; i++) yBits[i] = (bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16) | (bytes[4 * i + 3] << 24)) >>> 0;
    return y;
  }
  if (type === 'F16') {
    for (let i = 0; i < n; i++) y[i] = f16ToF32(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    return y;
  }
  if (type === 'BF16') {
    for (let i = 0; i < n; i++) yBits[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
    return y;
  }
  const fn = blocks[type] as BlockFn;
  for (let i = 0; i < n; i++) fn(bytes, i * t.blockBytes, y, i * t.blockElems);
  return y;
}
