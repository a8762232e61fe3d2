import { native } from '../../lib/native';
import { fakeInitFill, fakeInitValue, philox4x32_10, philoxKey, detLogU24, detSinCos2piU24 } from '../../lib/scan/philox';

const hex = (w: number[]) => w.map((x) => x.toString(16).padStart(8, '0')).join(' ');

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(philox4x32_10(0, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const f = 0xffffffff;
    expect(hex(philox4x32_10(f, f, f, f, f, f))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32_10(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });
});

describe('deterministic log, cosine and sine', () => {
  it('agree with Math.log / Math.cos / Math.sin to 1e-15 over their whole domain (sampled)', () => {
    for (let i = 0; i < 20000; i++) {
      const m = 1 + Math.floor((i / 20000) * 16777215) + (i % 7);
      const u = m / 16777216;
      expect(Math.abs(detLogU24(m) - Math.log(u))).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(Math.log(u))));
      const m2 = ((i * 838.86 + (i % 13)) >>> 0) % 16777216;
      const [c, s] = detSinCos2piU24(m2);
      expect(Math.abs(c - Math.cos(2 * Math.PI * (m2 / 16777216)))).toBeLessThan(1e-15);
      expect(Math.abs(s - Math.sin(2 * Math.PI * (m2 / 16777216)))).toBeLessThan(1e-15);
    }
  });
});

describe('fake initialization', () => {
  const isas = native().cpuInfo().supportedIsas;
  const key = philoxKey(1234, 'layers.0.mlp.up_proj.weight');
  const schemes = [
    { kind: 1, a: -0.05, b: 0.05, ...key },
    { kind: 2, a: 0, b: 0.02, ...key },
    { kind: 2, a: 1.5, b: 3, ...key },
    { kind: 0, a: 1, b: 0, ...key },
  ];

  it.each(isas)('native %s kernels equal the TypeScript mirror bit for bit', (isa) => {
    for (const p of schemes) {
      // The last range runs 1,024 full 64-element SIMD groups through every lane of the kernels.
      for (const [start, n] of [[0, 1000], [64, 333], [7, 129], [4096 * 1024 + 5, 200], [123 * 64, 65536]] as const) {
        const got = native().fakeInit(p, start, n, isa);
        const want = fakeInitFill(p, start, new Float32Array(n));
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      }
    }
  });

  it('has the moments of its distribution', () => {
    const n = 200000;
    const u = fakeInitFill({ kind: 1, a: -1, b: 1, ...key }, 0, new Float32Array(n));
    const g = fakeInitFill({ kind: 2, a: 0, b: 1, ...key }, 0, new Float32Array(n));
    const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
    const meanSq = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0) / x.length;
    expect(Math.abs(mean(u))).toBeLessThan(0.01);
    expect(Math.abs(meanSq(u) - 1 / 3)).toBeLessThan(0.01);
    expect(Math.abs(mean(g))).toBeLessThan(0.01);
    expect(Math.abs(meanSq(g) - 1)).toBeLessThan(0.02);
    const quad = g.reduce((s, v) => s + v ** 4, 0) / n;
    expect(Math.abs(quad - 3)).toBeLessThan(0.1); // Gaussian kurtosis
    expect(u.reduce((m, v) => Math.max(m, v), -Infinity)).toBeLessThan(1);
    expect(u.reduce((m, v) => Math.min(m, v), Infinity)).toBeGreaterThan(-1);
  });

  it('is keyed by seed and tensor name, and the same inputs give the same values', () => {
    const a = philoxKey(1, 'w');
    expect(philoxKey(1, 'w')).toEqual(a);
    expect(philoxKey(2, 'w')).not.toEqual(a);
    expect(philoxKey(1, 'w2')).not.toEqual(a);
    const p = { kind: 1, a: -1, b: 1, ...a };
    expect(fakeInitValue(p, 12345)).toBe(fakeInitValue(p, 12345));
  });
});
