/**
 * Writes GGUF v3 files from TypeScript (test fixtures, and later the zoo): typed metadata,
 * then tensor infos, then each tensor's bytes at an aligned offset. Tensors are produced and
 * written one at a time (a tensor's data may be a function), so a file larger than memory can
 * be written; the file goes to `<path>.tmp` and is renamed on completion. A model can also be
 * written split over several files as llama.cpp's gguf-split does (writeGgufSplit).
 */
import * as fs from 'fs';
import { InvalidArgumentError } from '../errors';
import { SPLIT_COUNT, SPLIT_NO, SPLIT_TENSORS, splitFileName } from './gguf-split';
import { ggmlBytes, ggmlType } from './gguf-types';
import { quantize, QuantizeType, QUANTIZE_TYPES } from './gguf-quantize';

export type GgufScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64' | 'i64' | 'f64';
export const GGUF_VALUE_TYPES: readonly string[] = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'];

export type GgufScalar = number | bigint | boolean | string;
export type GgufWriteValue =
  | { type: GgufScalarType; value: GgufScalar }
  | { type: 'array'; elementType: GgufScalarType | 'array'; values: GgufScalar[] | GgufWriteValue[] };

export interface GgufWriteTensor {
  name: string;
  /** ggml type name ("F32", "Q4_K", ...). */
  type: string;
  /** GGUF order: dims[0] varies fastest (the reverse of a PyTorch shape). */
  dims: number[];
  /** Float values (converted or quantized to `type`), or the already encoded bytes; or a function giving either. */
  data: Float32Array | Uint8Array | (() => Float32Array | Uint8Array);
}

export interface GgufWriteOptions {
  metadata?: Record<string, GgufWriteValue>;
  tensors: GgufWriteTensor[];
  /** Written as general.alignment when not 32 (the default). */
  alignment?: number;
}

const w = {
  u8: (v: number) => Buffer.from([v & 0xff]),
  i8: (v: number) => { const b = Buffer.alloc(1); b.writeInt8(v); return b; },
  u16: (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; },
  i16: (v: number) => { const b = Buffer.alloc(2); b.writeInt16LE(v); return b; },
  u32: (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; },
  i32: (v: number) => { const b = Buffer.alloc(4); b.writeInt32LE(v); return b; },
  f32: (v: number) => { const b = Buffer.alloc(4); b.writeFloatLE(v); return b; },
  f64: (v: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(v); return b; },
  u64: (v: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; },
  i64: (v: number | bigint) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return b; },
};

/** A GGUF string: u64 length, then the UTF-8 bytes. */
export function encodeGgufString(s: string | Buffer): Buffer {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([w.u64(bytes.length), bytes]);
}

function typeId(t: string): number {
  const id = GGUF_VALUE_TYPES.indexOf(t);
  if (id < 0) throw new InvalidArgumentError('E_INVALID_ARG', `GGUF writer: unknown value type '${t}'`);
  return id;
}

function encodeScalar(type: GgufScalarType, v: unknown): Buffer {
  switch (type) {
    case 'string': return encodeGgufString(String(v));
    case 'bool': return w.u8(v ? 1 : 0);
    case 'u64': case 'i64': return w[type](v as number | bigint);
    default: return w[type](Number(v));
  }
}

/** A value's bytes without its type tag (an array: element type, count, elements). */
export function encodeGgufValue(v: GgufWriteValue): Buffer {
  if (v.type !== 'array') return encodeScalar(v.type, v.value);
  const parts: Buffer[] = [w.u32(typeId(v.elementType)), w.u64(v.values.length)];
  for (const e of v.values) parts.push(v.elementType === 'array' ? encodeGgufValue(e as GgufWriteValue) : encodeScalar(v.elementType, e));
  return Buffer.concat(parts);
}

/** One key-value pair: key string, u32 value type, value. */
export function encodeGgufKv(key: string, v: GgufWriteValue): Buffer {
  return Buffer.concat([encodeGgufString(key), w.u32(typeId(v.type)), encodeGgufValue(v)]);
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

function tensorBytes(t: GgufWriteTensor): Uint8Array {
  const type = ggmlType(t.type);
  const elements = t.dims.reduce((a, b) => a * b, 1);
  const data = typeof t.data === 'function' ? t.data() : t.data;
  if (data instanceof Float32Array) {
    if (!(QUANTIZE_TYPES as readonly string[]).includes(t.type))
      throw new InvalidArgumentError('E_INVALID_ARG', `GGUF writer: tensor '${t.name}': cannot encode floats as ${t.type} (give its bytes instead)`);
    if (data.length !== elements) throw new InvalidArgumentError('E_INVALID_ARG', `GGUF writer: tensor '${t.name}': ${data.length} values for ${elements} elements`);
    return quantize(t.type as QuantizeType, data);
  }
  if (type && data.length !== ggmlBytes(type, elements))
    throw new InvalidArgumentError('E_INVALID_ARG', `GGUF writer: tensor '${t.name}': ${data.length} bytes for ${ggmlBytes(type, elements)}`);
  return data;
}

/** The header (magic to the aligned end of the tensor infos) and each tensor's relative offset. */
export function buildGgufHeader(opts: GgufWriteOptions): { header: Buffer; offsets: number[]; alignment: number } {
  const alignment = opts.alignment ?? 32;
  const metadata: Record<string, GgufWriteValue> = { ...(opts.metadata ?? {}) };
  if (alignment !== 32) metadata['general.alignment'] = { type: 'u32', value: alignment };
  const parts: Buffer[] = [Buffer.from('GGUF'), w.u32(3), w.u64(opts.tensors.length), w.u64(Object.keys(metadata).length)];
  for (const [k, v] of Object.entries(metadata)) parts.push(encodeGgufKv(k, v));
  const offsets: number[] = [];
  let offset = 0;
  for (const t of opts.tensors) {
    const type = ggmlType(t.type);
    if (!type) throw new InvalidArgumentError('E_INVALID_ARG', `GGUF writer: tensor '${t.name}': unknown ggml type ${t.type}`);
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (t.dims[0] % type.blockElems !== 0)
      throw new InvalidArgumentError('E_INVALID_ARG', `GGUF writer: tensor '${t.name}': row length ${t.dims[0]} is not a multiple of ${type.blockElems}`);
    parts.push(encodeGgufString(t.name), w.u32(t.dims.length), ...t.dims.map((d) => w.u64(d)), w.u32(type.id), w.u64(offset));
    offsets.push(offset);
    offset = alignUp(offset + ggmlBytes(type, elements), alignment);
  }
  const body = Buffer.concat(parts);
  return { header: Buffer.concat([body, Buffer.alloc(alignUp(body.length, alignment) - body.length)]), offsets, alignment };
}

/** The whole file in memory (small fixtures, fuzzing). */
export function encodeGguf(opts: GgufWriteOptions): Buffer {
  const { header, offsets } = buildGgufHeader(opts);
  const parts: Buffer[] = [header];
  let at = 0;
  opts.tensors.forEach((t, i) => {
    parts.push(Buffer.alloc(offsets[i] - at));
    const bytes = tensorBytes(t);
    parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    at = offsets[i] + bytes.length;
  });
  return Buffer.concat(parts);
}

/** Writes a GGUF v3 file, one tensor at a time. */
export function writeGguf(path: string, opts: GgufWriteOptions): void {
  const { header, offsets } = buildGgufHeader(opts);
  const tmp = `${path}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, header);
    let at = 0;
    opts.tensors.forEach((t, i) => {
      if (offsets[i] > at) fs.writeSync(fd, Buffer.alloc(offsets[i] - at));
      const bytes = tensorBytes(t);
      fs.writeSync(fd, bytes);
      at = offsets[i] + bytes.length;
    });
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

export interface GgufSplitOptions {
  /** How many files (1..65535: split.count is a u16). */
  files: number;
  /** No tensor in the first file, only the metadata (gguf-split's --no-tensor-first-split). */
  metadataOnlyFirst?: boolean;
}

/**
 * One model's write options as the files gguf-split makes of it: the first file gets all the
 * metadata (and the alignment), every file split.no, split.count and split.tensors.count and
 * its run of tensors, in order (runs as equal as they can be); later files have only the split
 * keys, so their alignment is the default 32, as gguf-split writes them.
 */
export function splitGgufOptions(opts: GgufWriteOptions, split: GgufSplitOptions): GgufWriteOptions[] {
  const n = split.files;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('E_INVALID_ARG', `GGUF writer: split into ${n} files (1..65535)`);
  const skip = split.metadataOnlyFirst && n > 1 ? 1 : 0;
  const total = opts.tensors.length;
  const start = (k: number) => (k < skip ? 0 : Math.floor(((k - skip) * total) / (n - skip)));
  return Array.from({ length: n }, (_, k) => {
    const keys: Record<string, GgufWriteValue> = {
      [SPLIT_NO]: { type: 'u16', value: k },
      [SPLIT_COUNT]: { type: 'u16', value: n },
      [SPLIT_TENSORS]: { type: 'i32', value: total },
    };
    return {
      metadata: k === 0 ? { ...(opts.metadata ?? {}), ...keys } : keys,
      tensors: k < skip ? [] : opts.tensors.slice(start(k), k + 1 < n ? start(k + 1) : total),
      alignment: k === 0 ? opts.alignment : undefined,
    };
  });
}

/** The files of a split model in memory, in order (small fixtures, fuzzing). */
export function encodeGgufSplit(opts: GgufWriteOptions, split: GgufSplitOptions): Buffer[] {
  return splitGgufOptions(opts, split).map(encodeGguf);
}

/** Writes `<prefix>-00001-of-0000N.gguf` ... (prefix is a path without `.gguf`); returns the paths in order. */
export function writeGgufSplit(prefix: string, opts: GgufWriteOptions, split: GgufSplitOptions): string[] {
  const parts = splitGgufOptions(opts, split);
  return parts.map((o, k) => {
    const file = splitFileName(prefix, k + 1, parts.length);
    writeGguf(file, o);
    return file;
  });
}

/** llama.* hyperparameters and the general keys a llama-family GGUF carries. */
export function llamaMetadata(p: { name?: string; blockCount: number; embeddingLength: number; feedForwardLength: number; headCount: number; headCountKv?: number; contextLength?: number; rmsEps?: number }): Record<string, GgufWriteValue> {
  return {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: p.name ?? 'test' },
    'llama.block_count': { type: 'u32', value: p.blockCount },
    'llama.context_length': { type: 'u32', value: p.contextLength ?? 2048 },
    'llama.embedding_length': { type: 'u32', value: p.embeddingLength },
    'llama.feed_forward_length': { type: 'u32', value: p.feedForwardLength },
    'llama.attention.head_count': { type: 'u32', value: p.headCount },
    'llama.attention.head_count_kv': { type: 'u32', value: p.headCountKv ?? p.headCount },
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: p.rmsEps ?? 1e-5 },
  };
}
