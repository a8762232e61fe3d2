/**
 * GGUF dequantization: the native dequantizers against the pure TypeScript reference, bit for
 * bit (NaN-aware), on random blocks of every supported type, for 1, 2 and many blocks; blocks
 * whose f16 scales are NaN, infinite, subnormal or zero; and the fixture quantizers' error
 * against the bound each format implies.
 */
import { dequantizeGguf } from '../../lib/io/gguf';
import { dequantizeRef, f16ToF32 } from '../../lib/io/gguf-quant-ref';
import { quantize } from '../../lib/io/gguf-quantize';
import { DEQUANT_TYPES, DequantType, GGML_TYPES, ggmlType } from '../../lib/io/gguf-types';
import { floatToF16Bits } from '../../lib/io/dtype';
import { DtypeError, InvalidArgumentError } from '../../lib/errors';
import { rng } from './safetensors-helpers';

const random = rng(0x66756e);
const int = (n: number): number => Math.floor(random() * n);

/** Byte offsets of each block's f16 scale fields (d, and dmin / m where the type has one). */
const SCALE_FIELDS: Partial<Record<DequantType, number[]>> = {
  Q4_0: [0], Q4_1: [0, 2], Q5_0: [0], Q5_1: [0, 2], Q8_0: [0],
  Q2_K: [80, 82], Q3_K: [108], Q4_K: [0, 2], Q5_K: [0, 2], Q6_K: [208],
};
const SPECIAL_F16 = [0x7e00, 0x7c01, 0xfe00, 0x7c00, 0xfc00, 0x0001, 0x03ff, 0x8001, 0x0000, 0x8000, 0x7bff, 0xfbff];

function randomFiniteF16(): number {
  const x = (random() * 2 - 1) * 2 ** (int(30) - 20);
  return floatToF16Bits(x);
}

/** Random blocks: random bytes, scale fields finite random f16 (or special values when asked). */
function randomBlocks(type: DequantType, blocks: number, special: boolean): Uint8Array {
  const t = ggmlType(type)!;
  const b = new Uint8Array(blocks * t.blockBytes);
  for (let i = 0; i < b.length; i++) b[i] = int(256);
  for (let k = 0; k < blocks; k++)
    for (const off of SCALE_FIELDS[type] ?? []) {
      const h = special ? SPECIAL_F16[int(SPECIAL_F16.length)] : randomFiniteF16();
      b[k * t.blockBytes + off] = h & 0xff;
      b[k * t.blockBytes + off + 1] = h >> 8;
    }
  return b;
}

/** Equal bits, or NaN on both sides (a NaN's payload may change through arithmetic). */
function expectSame(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === e[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) continue;
    throw new Error(`${what}: element ${i}: native ${actual[i]} (0x${a[i].toString(16)}) != reference ${expected[i]} (0x${e[i].toString(16)})`);
  }
}

describe('native dequantization equals the TypeScript reference bit for bit', () => {
  for (const type of DEQUANT_TYPES) {
    const t = ggmlType(type)!;
    it.each([1, 2, 37])(`${type}: %i blocks of random bytes with finite scales`, (blocks) => {
      for (let rep = 0; rep < 4; rep++) {
        const bytes = randomBlocks(type, blocks, false);
        const n = blocks * t.blockElems;
        expectSame(dequantizeGguf(type, bytes, n), dequantizeRef(type, bytes, n), `${type} x${blocks}`);
      }
    });
    it(`${type}: scales that are NaN, infinite, subnormal or zero`, () => {
      for (let rep = 0; rep < 20; rep++) {
        const bytes = randomBlocks(type, 3, true);
        expectSame(dequantizeGguf(type, bytes, 3 * t.blockElems), dequantizeRef(type, bytes, 3 * t.blockElems), type);
      }
    });
  }

  it('reads blocks at any byte alignment (a chunk need not start on an aligned address)', () => {
    const bytes = randomBlocks('Q4_K', 4, false);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expectSame(dequantizeGguf('Q4_K', shifted.subarray(3), 1024), dequantizeRef('Q4_K', bytes, 1024), 'unaligned');
  });

  it('the reference itself decodes hand-built blocks to the values the format defines', () => {
    // Q8_0: d = 0.5, q = -3 -> -1.5; Q4_0: d = 2, nibble 0xF -> (15 - 8) * 2 = 14.
    const q8 = new Uint8Array(34);
    q8.set([0x00, 0x38]); // f16 0.5
    q8[2] = 0xfd;
    expect(dequantizeRef('Q8_0', q8, 32)[0]).toBe(-1.5);
    const q4 = new Uint8Array(18);
    q4.set([0x00, 0x40]); // f16 2
    q4[2] = 0xf0; // low nibble 0 -> element 0, high nibble 15 -> element 16
    const y = dequantizeRef('Q4_0', q4, 32);
    expect([y[0], y[16]]).toEqual([-16, 14]);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
  });
});

describe('dequantizeGguf refuses what it cannot decode', () => {
  it('types without a dequantizer are a DtypeError naming the type', () => {
    for (const t of GGML_TYPES.filter((x) => !x.dequantizable)) {
      const bytes = new Uint8Array(t.blockBytes);
      expect(() => dequantizeGguf(t.name, bytes, t.blockElems)).toThrow(DtypeError);
      expect(() => dequantizeGguf(t.name, bytes, t.blockElems)).toThrow(new RegExp(`GGUF type ${t.name} cannot be dequantized`));
    }
  });
  it('partial blocks, short buffers and unknown names are invalid arguments', () => {
    expect(() => dequantizeGguf('Q4_K', new Uint8Array(144), 255)).toThrow(InvalidArgumentError);
    expect(() => dequantizeGguf('Q4_K', new Uint8Array(143), 256)).toThrow(/need 144 bytes, got 143/);
    expect(() => dequantizeGguf('Q9_9', new Uint8Array(4), 1)).toThrow(/unknown ggml type/);
  });
});

function normals(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return out;
}

describe('fixture quantizers: quantize -> dequantize stays within each format\'s error bound', () => {
  // Per block (or sub-block) of values: the largest error round-to-nearest allows is half a
  // quantization step; the f16 rounding of the scale adds at most a relative 2^-10.
  const maxAbs = (x: Float32Array, a: number, n: number): number => { let m = 0; for (let i = a; i < a + n; i++) m = Math.max(m, Math.abs(x[i])); return m; };
  const range = (x: Float32Array, a: number, n: number, withZero: boolean): number => {
    let lo = withZero ? 0 : Infinity, hi = withZero ? 0 : -Infinity;
    for (let i = a; i < a + n; i++) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
    return hi - lo;
  };
  const cases: [string, number, (x: Float32Array, a: number) => number][] = [
    ['Q8_0', 32, (x, a) => (maxAbs(x, a, 32) / 127) * 0.5 * 1.002],
    ['Q4_0', 32, (x, a) => (maxAbs(x, a, 32) / 7) * 0.5 * 1.002],
    ['Q4_1', 32, (x, a) => (range(x, a, 32, false) / 15) * 0.5 * 1.002 + maxAbs(x, a, 32) * 2 ** -11],
    // Q4_K: scales and mins are 6-bit multiples of the block's d and dmin, rounded up so no
    // value clips: one extra d (and dmin) of range per sub-block.
    ['Q4_K', 32, (x, a) => {
      const b = a - (a % 256);
      let maxRange = 0, maxOff = 0;
      for (let j = 0; j < 8; j++) { maxRange = Math.max(maxRange, range(x, b + 32 * j, 32, true)); maxOff = Math.max(maxOff, -Math.min(0, ...x.subarray(b + 32 * j, b + 32 * j + 32))); }
      const step = (range(x, a, 32, true) + maxOff / 63 * 1.002) / 15 + (maxRange + maxOff / 63) / (15 * 63) * 1.002;
      return step * 0.5 * 1.002 + 1e-6;
    }],
  ];
  it.each(cases)('%s', (type, unit, bound) => {
    const x = normals(256 * 12);
    x[5] = 0; // a block with a zero, and one all zero:
    x.fill(0, 256, 512);
    const y = dequantizeGguf(type, quantize(type as 'Q8_0', x), x.length);
    let worst = 0;
    for (let a = 0; a < x.length; a += unit) {
      const limit = bound(x, a);
      for (let i = a; i < a + unit; i++) {
        const err = Math.abs(y[i] - x[i]);
        if (err > limit) throw new Error(`${type}: element ${i}: |${y[i]} - ${x[i]}| = ${err} > ${limit}`);
        worst = Math.max(worst, err / (limit || 1));
      }
    }
    for (let i = 256; i < 512; i++) expect(y[i]).toBe(0);
    expect(worst).toBeGreaterThan(0.3); // the bound is tight enough to mean something
  });
  it('F16 and BF16 round trip through encodeFloats exactly for representable values', () => {
    const x = new Float32Array([0, -0, 1, -2.5, 65504, 2 ** -24]);
    expectSame(dequantizeGguf('F16', quantize('F16', x), x.length), x, 'F16');
    const xb = new Float32Array([0, 1, -2.5, 3.140625, 2 ** 100]);
    expectSame(dequantizeGguf('BF16', quantize('BF16', xb), xb.length), xb, 'BF16');
  });
});
