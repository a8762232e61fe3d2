/**
 * Fuzz target: GPTQ/AWQ checkpoints (lib/io/quant-config.ts and lib/io/packed-quant.ts, then
 * the native unpacking). A seed is one safetensors file holding packed Linears, with its
 * quantization config as JSON in the header's __metadata__ (so mutations reach the config as
 * well as the tensors). An accepted file is checked here: every packed weight's parts have
 * the shapes its config implies, and the native unpacking of the whole weight equals the
 * TypeScript reference bit for bit.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readPackedNative, unpackQuantizedTensors } from '../../lib/io/packed-quant';
import { unpackPackedRef } from '../../lib/io/packed-quant-ref';
import { PackOptions, packedTensorData, quantizationConfig, quantizePacked } from '../../lib/io/packed-quant-writer';
import { parseQuantConfig } from '../../lib/io/quant-config';
import { readHeaderSync } from '../../lib/io/safetensors';
import { TensorData, writeSafetensors } from '../../lib/io/safetensors-writer';
import type { TensorEntry } from '../../lib/io/types';
import { FuzzTarget } from './target';

const SEEDS: [PackOptions, number, number][] = [
  [{ method: 'gptq', bits: 4, groupSize: 16, actOrder: true, seed: 1 }, 12, 48],
  [{ method: 'gptq', bits: 8, groupSize: -1, zeroOffset: 0 }, 5, 20],
  [{ method: 'awq', bits: 4, groupSize: 8 }, 12, 20],
];

function seeds(dir: string): Buffer[] {
  return SEEDS.map(([o, out, inF], k) => {
    const w = Float32Array.from({ length: out * inF }, (_, i) => Math.sin(i * 0.37 + k) * 0.1);
    const tensors: TensorData[] = [
      ...packedTensorData('model.layers.0.mlp.up_proj', quantizePacked(w, out, inF, o)),
      { name: 'model.norm.weight', dtype: 'F32', shape: [4], data: [1, 1, 1, 1] },
    ];
    const p = path.join(dir, `seed-packed-${k}.safetensors`);
    writeSafetensors(p, tensors, { quantization_config: JSON.stringify(quantizationConfig(o)) });
    return fs.readFileSync(p);
  });
}

function read(fd: number, t: TensorEntry): Uint8Array {
  const b = Buffer.alloc(t.byteLength);
  fs.readSync(fd, b, 0, t.byteLength, t.offset);
  return b;
}

function check(file: string): void {
  const h = readHeaderSync(file);
  const text = h.metadata?.quantization_config;
  let raw: unknown;
  try {
    raw = text === undefined ? undefined : JSON.parse(text);
  } catch {
    raw = null; // not JSON: parseQuantConfig refuses it as not an object
  }
  const cfg = raw === undefined ? undefined : parseQuantConfig(raw, file);
  const tensors = h.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, file, offset: h.dataStart + t.begin, byteLength: t.end - t.begin }));
  const fd = fs.openSync(file, 'r');
  try {
    for (const t of unpackQuantizedTensors(tensors, cfg, file)) {
      const p = t.packed;
      if (!p || !(p.bits === 4 || p.bits === 8)) continue;
      const pack = 32 / p.bits, zeroCols = Math.ceil(p.out / pack);
      const weightShape = p.method === 'awq' ? [p.in, zeroCols] : [p.in / pack, p.out];
      const groups = p.groupSize === -1 ? 1 : Math.ceil(p.in / p.groupSize);
      if (
        p.qweight.shape.join() !== weightShape.join() || p.qzeros.shape.join() !== [groups, zeroCols].join() ||
        p.scales.shape.join() !== [groups, p.out].join() || (p.gIdx && p.gIdx.shape.join() !== `${p.in}`) || t.shape.join() !== [p.out, p.in].join()
      )
        throw new Error(`accepted a packed weight whose parts do not fit: '${t.name}'`);
      const ref = unpackPackedRef({
        method: p.method, bits: p.bits, in: p.in, out: p.out, groups: p.groups, groupSize: p.groupSize, zeroOffset: p.zeroOffset,
        qweight: read(fd, p.qweight), qzeros: read(fd, p.qzeros), scales: read(fd, p.scales), scalesDtype: p.scales.dtype as 'F16',
        gIdx: p.gIdx && read(fd, p.gIdx),
      });
      const got = readPackedNative(t);
      const a = new Uint32Array(got.buffer), e = new Uint32Array(ref.buffer);
      for (let i = 0; i < a.length; i++)
        if (a[i] !== e[i] && !(Number.isNaN(got[i]) && Number.isNaN(ref[i]))) throw new Error(`native unpacking differs from the reference at element ${i} of '${t.name}'`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

export const packedTarget: FuzzTarget = { name: 'packed', seeds, check };
