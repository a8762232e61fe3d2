/**
 * GPTQ/AWQ unpacking: the native scan's code (native/core/scan_packed.cc, through the
 * readPackedRange test export) against the TypeScript reference (lib/io/packed-quant-ref.ts),
 * bit for bit, on fresh random words, zeros, scales and g_idx: GPTQ and AWQ, 4 and 8 bits,
 * with and without act order, F16/BF16/F32 scales, both zero-point conventions, feature counts
 * that are not multiples of the pack or group size where the format allows it, and ranges that
 * start and end inside rows and words (so both the one-read and the row-by-row column reads,
 * and both the unrolled whole-word loop and the general loop, run). Then
 * the writer's round-to-nearest quantizer against the error bound it implies.
 */
import * as fs from 'fs';
import * as path from 'path';
import { openModels } from '../../lib/io/discover';
import { readPackedNative } from '../../lib/io/packed-quant';
import { unpackPackedRef } from '../../lib/io/packed-quant-ref';
import { quantizePacked } from '../../lib/io/packed-quant-writer';
import { PackedSpec, writePackedDir } from './packed-helpers';
import { rng, tmpDir } from './safetensors-helpers';

const dir = tmpDir('np-packed-quant-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const random = rng(0x67707471);
const int = (n: number): number => Math.floor(random() * n);

/** Equal bits, or NaN on both sides. */
function expectSame(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === e[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) continue;
    throw new Error(`${what}: element ${i}: native ${actual[i]} (0x${a[i].toString(16)}) != reference ${expected[i]} (0x${e[i].toString(16)})`);
  }
}

// in/out chosen off the pack and group sizes: GPTQ needs whole words of inputs, AWQ none.
const CASES: PackedSpec[] = [
  { method: 'gptq', bits: 4, in: 40, out: 13, groupSize: 16 },
  { method: 'gptq', bits: 4, in: 40, out: 13, groupSize: 16, actOrder: true },
  { method: 'gptq', bits: 4, in: 64, out: 300, groupSize: 32, zeroOffset: 0, scalesDtype: 'BF16' },
  { method: 'gptq', bits: 8, in: 44, out: 7, groupSize: 12, actOrder: true, scalesDtype: 'F32' },
  { method: 'gptq', bits: 8, in: 36, out: 301, groupSize: -1 },
  { method: 'gptq', bits: 4, in: 24, out: 5, groupSize: 1, actOrder: true },
  // groups in input order and whole words: the scan's unrolled word loop, with partial words at
  // the ends of the random ranges going through the general loop
  { method: 'gptq', bits: 4, in: 256, out: 9, groupSize: 32 },
  { method: 'gptq', bits: 8, in: 96, out: 10, groupSize: 32, zeroOffset: 0, scalesDtype: 'BF16' },
  { method: 'awq', bits: 4, in: 37, out: 13, groupSize: 16 },
  { method: 'awq', bits: 4, in: 50, out: 203, groupSize: 8, scalesDtype: 'BF16' },
  { method: 'awq', bits: 4, in: 3, out: 1, groupSize: 128 },
];

describe('native GPTQ/AWQ unpacking equals the TypeScript reference bit for bit', () => {
  CASES.forEach((spec, n) => {
    const name = `${spec.method} ${spec.bits}-bit in ${spec.in} out ${spec.out} group ${spec.groupSize}${spec.actOrder ? ' act order' : ''} ${spec.scalesDtype ?? 'F16'} scales`;
    it(name, async () => {
      for (let rep = 0; rep < 3; rep++) {
        const modelDir = path.join(dir, `case-${n}-${rep}`);
        const parts = writePackedDir(modelDir, spec, random);
        const t = (await openModels([modelDir])).models[0].tensors.find((x) => x.packed)!;
        expect(t.shape).toEqual([spec.out, spec.in]);
        const total = spec.in * spec.out;
        expectSame(readPackedNative(t), unpackPackedRef(parts), `${name} whole`);
        for (let k = 0; k < 6; k++) {
          const start = int(total), len = 1 + int(total - start);
          expectSame(readPackedNative(t, start, len), unpackPackedRef(parts, start, len), `${name} [${start}, +${len})`);
        }
      }
    });
  });

  it('the reference reads GPTQ and AWQ orders as documented (hand-built words)', () => {
    // GPTQ 4-bit, in 8, out 2: input i of output o at bits 4i of qweight[0][o].
    const w = new Uint32Array([0x76543210, 0x01234567]);
    const ones = Buffer.alloc(4 * 2);
    ones.writeUInt16LE(0x3c00, 0); // 1.0 in F16
    ones.writeUInt16LE(0x3c00, 2);
    const gptq = unpackPackedRef({
      method: 'gptq', bits: 4, in: 8, out: 2, groups: 1, groupSize: -1, zeroOffset: 0,
      qweight: new Uint8Array(w.buffer), qzeros: new Uint8Array(4), scales: ones.subarray(0, 4), scalesDtype: 'F16',
    });
    expect(Array.from(gptq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1, 0]);
    // AWQ, in 1, out 8: output o in nibble AWQ_SLOT[o]; word 0x75316420 holds outputs 0..7 in order.
    const scales8 = Buffer.alloc(16);
    for (let o = 0; o < 8; o++) scales8.writeUInt16LE(0x3c00, o * 2);
    const awq = unpackPackedRef({
      method: 'awq', bits: 4, in: 1, out: 8, groups: 1, groupSize: 128, zeroOffset: 0,
      qweight: new Uint8Array(new Uint32Array([0x75316420]).buffer), qzeros: new Uint8Array(4), scales: scales8, scalesDtype: 'F16',
    });
    expect(Array.from(awq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('the round-to-nearest writer', () => {
  it.each([
    ['gptq', 4, 32, false],
    ['gptq', 8, 16, true],
    ['awq', 4, 16, false],
  ] as const)('%s %i-bit group %i (act order %s): within half a step of every weight', (method, bits, groupSize, actOrder) => {
    const out = 11, inF = 48;
    const w = Float32Array.from({ length: out * inF }, () => Math.fround((random() * 2 - 1) * 0.1));
    const p = quantizePacked(w, out, inF, { method, bits, groupSize, actOrder, seed: 3 });
    const parts = {
      method, bits, in: inF, out, groups: p.scalesShape[0], groupSize, zeroOffset: method === 'gptq' ? 1 : 0,
      qweight: new Uint8Array(p.qweight.buffer), qzeros: new Uint8Array(p.qzeros.buffer),
      scales: new Uint8Array(p.scales.buffer), scalesDtype: 'F32' as const,
      gIdx: p.gIdx ? new Uint8Array(p.gIdx.buffer) : undefined,
    };
    const back = unpackPackedRef(parts);
    const group = (i: number) => (p.gIdx ? p.gIdx[i] : Math.floor(i / groupSize));
    let worst = 0;
    for (let r = 0; r < out; r++)
      for (let i = 0; i < inF; i++) {
        const step = p.scales[group(i) * out + r];
        worst = Math.max(worst, Math.abs(back[r * inF + i] - w[r * inF + i]) / step);
      }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
    if (actOrder) expect(Array.from(p.gIdx!).some((g, i) => g !== Math.floor(i / groupSize))).toBe(true);
  });
});
