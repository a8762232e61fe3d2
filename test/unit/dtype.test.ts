import { bf16BitsToFloat, decodeToFloat32, encodeFloats, f16BitsToFloat, floatToBf16Bits, floatToF16Bits } from '../../lib/io/dtype';

describe('float encodings', () => {
  const samples = [0, -0, 1, -1, 0.1, 1 / 3, 65504, 65520, 1e-8, 6e-5, 5.96e-8, 3.4e38, Infinity, -Infinity, NaN, 1.00390625, 1.005859375];

  it('the bulk BF16 path equals the per-value rounding (nearest-even, NaN kept)', () => {
    const rand = Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 40) - 20));
    const values = Float32Array.from([...samples, ...rand]);
    const bulk = encodeFloats(values, 'BF16');
    for (let i = 0; i < values.length; i++) expect(bulk.readUInt16LE(i * 2)).toBe(floatToBf16Bits(values[i]));
    // From a plain array too.
    expect(encodeFloats(Array.from(values), 'BF16').equals(bulk)).toBe(true);
  });

  it('round-trips every dtype through decodeToFloat32', () => {
    const values = Float32Array.from(samples.filter((x) => Number.isFinite(x) && Math.abs(x) < 60000));
    for (const dtype of ['F32', 'F64', 'F16', 'BF16'] as const) {
      const back = decodeToFloat32(new Uint8Array(encodeFloats(values, dtype)), dtype);
      const expected = values.map((v) => (dtype === 'BF16' ? bf16BitsToFloat(floatToBf16Bits(v)) : dtype === 'F16' ? f16BitsToFloat(floatToF16Bits(v)) : v));
      expect(Array.from(back)).toEqual(Array.from(expected));
    }
  });

  it('F16 rounds to nearest even and handles subnormals and overflow', () => {
    expect(floatToF16Bits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(floatToF16Bits(65504)).toBe(0x7bff);
    expect(f16BitsToFloat(floatToF16Bits(5.960464477539063e-8))).toBe(5.960464477539063e-8); // smallest subnormal
    expect(floatToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(floatToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });
});
