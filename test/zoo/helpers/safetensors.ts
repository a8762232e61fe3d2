/**
 * A deliberately independent safetensors reader for the zoo tests (not lib/io's), strict about
 * what the format requires: header length, JSON, dtypes, contiguous in-order offsets, no
 * trailing bytes.
 */
import * as fs from 'fs';
import { decodeToFloat32, FloatDtype } from '../../../lib/io/dtype';

const SIZES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8 };

export interface ParsedTensor {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface ParsedFile {
  tensors: Map<string, ParsedTensor>;
  metadata: Record<string, string>;
  dataStart: number;
  bytes: Buffer;
}

export function parseSafetensors(file: string): ParsedFile {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 8) throw new Error(`${file}: shorter than 8 bytes`);
  const n = Number(bytes.readBigUInt64LE(0));
  if (n > bytes.length - 8) throw new Error(`${file}: header length ${n} past the end`);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, ParsedTensor>();
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
  const ranges: [number, number, string][] = [];
  for (const [name, v] of entries) {
    const t = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(t.dtype in SIZES)) throw new Error(`${name}: unexpected dtype ${t.dtype}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    const [b, e] = t.data_offsets;
    if (e - b !== count * SIZES[t.dtype]) throw new Error(`${name}: ${e - b} bytes for shape [${t.shape}] ${t.dtype}`);
    tensors.set(name, { dtype: t.dtype, shape: t.shape, begin: b, end: e });
    ranges.push([b, e, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [b, e, name] of ranges) {
    if (b !== pos) throw new Error(`${name}: offsets leave a gap or overlap at ${pos}`);
    pos = e;
  }
  if (8 + n + pos !== bytes.length) throw new Error(`${file}: ${bytes.length - 8 - n - pos} trailing bytes`);
  return { tensors, metadata, dataStart: 8 + n, bytes };
}

export function tensorValues(f: ParsedFile, name: string): Float32Array {
  const t = f.tensors.get(name);
  if (!t) throw new Error(`no tensor ${name}`);
  const raw = f.bytes.subarray(f.dataStart + t.begin, f.dataStart + t.end);
  return decodeToFloat32(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), t.dtype as FloatDtype);
}
