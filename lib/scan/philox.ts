/**
 * Philox4x32-10 and the fake initialization, in TypeScript: a line-by-line mirror of
 * native/core/philox.h. Each floating-point step is one IEEE double operation (JS numbers),
 * in the same order, so the values are bitwise those of the native CPU and CUDA paths; tests
 * hold all of them equal.
 */
import { InvalidArgumentError } from '../errors';

export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact, without BigInt). */
function mulhi32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lolo = al * bl;
  const hilo = ah * bl;
  const lohi = al * bh;
  const cross = (lolo >>> 16) + (hilo & 0xffff) + lohi; // < 2^34: exact
  return (ah * bh + (hilo >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/** Philox4x32-10 of counter (c0..c3) under key (k0, k1); returns 4 uint32 words. */
export function philox4x32_10(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
): [number, number, number, number] {
  c0 >>>= 0; c1 >>>= 0; c2 >>>= 0; c3 >>>= 0; k0 >>>= 0; k1 >>>= 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi32(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + PHILOX_W0) >>> 0;
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

const TWO_POW_MINUS_24 = 1 / 16777216;
const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;
const HALF_PI = 1.5707963267948966;

/** ln(m · 2^-24) for integer m in [1, 2^24] (det_log_u24 in philox.h). */
export function detLogU24(m: number): number {
  let e = 31 - Math.clz32(m);
  let f = m / (1 << e); // exact, in [1, 2)
  if (f > SQRT2) {
    f = f * 0.5;
    e = e + 1;
  }
  const s = (f - 1) / (f + 1);
  const s2 = s * s;
  let p = 1 / 19;
  p = 1 / 17 + s2 * p;
  p = 1 / 15 + s2 * p;
  p = 1 / 13 + s2 * p;
  p = 1 / 11 + s2 * p;
  p = 1 / 9 + s2 * p;
  p = 1 / 7 + s2 * p;
  p = 1 / 5 + s2 * p;
  p = 1 / 3 + s2 * p;
  p = 1 + s2 * p;
  const lnf = 2 * s * p;
  return (e - 24) * LN2 + lnf;
}

/** [cos, sin](2π · m · 2^-24) for integer m in [0, 2^24) (det_sincos2pi_u24 in philox.h). */
export function detSinCos2piU24(m: number): [number, number] {
  const q = m >>> 22;
  const rest = m & 0x3fffff;
  const swap = rest > 0x200000;
  const r = swap ? 0x400000 - rest : rest;
  const y = (r * (1 / 4194304)) * HALF_PI;
  const y2 = y * y;
  let c = 1 / 6402373705728000;
  c = 1 / 20922789888000 - y2 * c;
  c = 1 / 87178291200 - y2 * c;
  c = 1 / 479001600 - y2 * c;
  c = 1 / 3628800 - y2 * c;
  c = 1 / 40320 - y2 * c;
  c = 1 / 720 - y2 * c;
  c = 1 / 24 - y2 * c;
  c = 0.5 - y2 * c;
  c = 1 - y2 * c;
  let s = 1 / 355687428096000;
  s = 1 / 1307674368000 - y2 * s;
  s = 1 / 6227020800 - y2 * s;
  s = 1 / 39916800 - y2 * s;
  s = 1 / 362880 - y2 * s;
  s = 1 / 5040 - y2 * s;
  s = 1 / 120 - y2 * s;
  s = 1 / 6 - y2 * s;
  s = 1 - y2 * s;
  s = y * s;
  const cosv = swap ? s : c;
  const sinv = swap ? c : s;
  switch (q) {
    case 0: return [cosv, sinv];
    case 1: return [-sinv, cosv];
    case 2: return [-cosv, -sinv];
    default: return [sinv, -cosv];
  }
}

export function detCos2piU24(m: number): number {
  return detSinCos2piU24(m)[0];
}

/** Native-compatible fake-init parameters (kind 0 constant, 1 uniform, 2 normal). */
export interface FakeInitParams {
  kind: number;
  a: number;
  b: number;
  key0: number;
  key1: number;
}

function uniformFromBits(low: number, high: number, bits: number): number {
  const u = ((bits >>> 8) + 0.5) * TWO_POW_MINUS_24;
  return Math.fround(low + (high - low) * u);
}

function normalFromBits(mean: number, std: number, bits1: number, bits2: number, sine: boolean): number {
  const m1 = (bits1 >>> 8) + 1;
  const m2 = bits2 >>> 8;
  const radius = Math.sqrt(-2 * detLogU24(m1));
  const sc = detSinCos2piU24(m2);
  const z = radius * (sine ? sc[1] : sc[0]);
  return Math.fround(mean + std * z);
}

/** The fake-init value of element `index` (row-major, whole tensor); see philox.h. */
export function fakeInitValue(p: FakeInitParams, index: number): number {
  switch (p.kind) {
    case 0:
      return Math.fround(p.a);
    case 1: {
      const q = Math.floor(index / 64) * 16 + (index % 16);
      const w = philox4x32_10(q % 4294967296, Math.floor(q / 4294967296), 0, 0, p.key0, p.key1);
      return uniformFromBits(p.a, p.b, w[Math.floor(index / 16) % 4]);
    }
    case 2: {
      const q = Math.floor(index / 64) * 16 + (index % 16);
      const w = philox4x32_10(q % 4294967296, Math.floor(q / 4294967296), 1, 0, p.key0, p.key1);
      const j = (Math.floor(index / 32) % 2) * 2;
      return normalFromBits(p.a, p.b, w[j], w[j + 1], Math.floor(index / 16) % 2 === 1);
    }
    default:
      throw new InvalidArgumentError('E_INVALID_ARG', `unknown fake-init kind ${p.kind}`);
  }
}

/** Fills values for elements [start, start + out.length). */
export function fakeInitFill(p: FakeInitParams, start: number, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = fakeInitValue(p, start + i);
  return out;
}

const MASK64 = (1n << 64n) - 1n;

function splitmix64(z: bigint): bigint {
  z = (z + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * The Philox key of a tensor: FNV-1a-64 of its UTF-8 name, xor splitmix64(seed), mixed once
 * more by splitmix64; key0 = low 32 bits, key1 = high 32 bits.
 */
export function philoxKey(seed: number, tensorName: string): { key0: number; key1: number } {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgumentError('E_INVALID_ARG', `seed must be a non-negative integer, got ${seed}`);
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(tensorName, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & MASK64;
  }
  const k = splitmix64(h ^ splitmix64(BigInt(seed)));
  return { key0: Number(k & 0xffffffffn), key1: Number(k >> 32n) };
}
