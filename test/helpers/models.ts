/**
 * Test helpers: random safetensors models written to a temp dir, and a minimal header reader
 * (independent of the native reader) that turns a file into a ModelSource.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DTYPE_SIZES, FloatDtype } from '../../lib/io/dtype';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import type { ModelSource, TensorEntry } from '../../lib/io/types';

export function tmpDir(prefix = 'np-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Deterministic xorshift-based generator of floats in [0, 1) and normals. */
export function rng(seed: number): { uniform(): number; normal(): number } {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  return {
    uniform: next,
    normal: () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next()),
  };
}

export interface RandomTensor {
  name: string;
  shape: number[];
  dtype: FloatDtype;
  scale?: number;
}

export function writeRandomModel(file: string, tensors: RandomTensor[], seed: number, base?: Map<string, Float32Array>): Map<string, Float32Array> {
  const r = rng(seed);
  const values = new Map<string, Float32Array>();
  writeSafetensors(
    file,
    tensors.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      const b = base?.get(t.name);
      for (let i = 0; i < n; i++) data[i] = (b && i < b.length ? b[i] : 0) + (t.scale ?? 0.1) * r.normal();
      values.set(t.name, data);
      return { name: t.name, dtype: t.dtype, shape: t.shape, data };
    }),
  );
  return values;
}

/** Reads a safetensors header with JSON.parse (no validation) into a ModelSource. */
export function modelFromFile(file: string, id?: string): ModelSource {
  const fd = fs.openSync(file, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const len = Number(lenBuf.readBigUInt64LE(0));
    const hdr = Buffer.alloc(len);
    fs.readSync(fd, hdr, 0, len, 8);
    const obj = JSON.parse(hdr.toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const tensors: TensorEntry[] = Object.entries(obj)
      .filter(([k]) => k !== '__metadata__')
      .map(([name, t]) => ({
        name,
        dtype: t.dtype,
        shape: t.shape,
        file: path.resolve(file),
        offset: 8 + len + t.data_offsets[0],
        byteLength: t.data_offsets[1] - t.data_offsets[0],
      }));
    return {
      id: id ?? path.basename(file, '.safetensors'),
      path: path.resolve(file),
      format: 'file',
      files: [path.resolve(file)],
      tensors,
      bytes: tensors.reduce((s, t) => s + t.byteLength, 0),
      params: tensors.reduce((s, t) => s + t.byteLength / DTYPE_SIZES[t.dtype], 0),
    };
  } finally {
    fs.closeSync(fd);
  }
}
