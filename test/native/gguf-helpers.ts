/**
 * Building blocks for the GGUF reader tests: a file assembled field by field, so each test
 * can break exactly one field of an otherwise valid file (the writer only writes valid ones).
 */
import { encodeGgufString, encodeGgufValue, GgufWriteValue } from '../../lib/io/gguf-writer';

export interface RawKv {
  key: string | Buffer;
  /** GGUF value type id (8 = string, 9 = array, ...). */
  type: number;
  value: Buffer;
}
export interface RawTensor {
  name: string | Buffer;
  nDims?: number;
  dims: (number | bigint)[];
  type: number;
  offset: number | bigint;
}
export interface RawFile {
  magic?: string;
  version?: number;
  nTensors?: bigint;
  nKv?: bigint;
  kvs: RawKv[];
  tensors: RawTensor[];
  /** Pads the header to this (default 32); false writes no padding. */
  pad?: number | false;
  data: Buffer;
}

const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const u64 = (v: number | bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
export { u32, u64 };

const TYPE_IDS: Record<string, number> = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 };
export function kv(key: string, v: GgufWriteValue): RawKv {
  return { key, type: TYPE_IDS[v.type], value: encodeGgufValue(v) };
}

export function headerBytes(f: RawFile): Buffer {
  const parts: Buffer[] = [Buffer.from(f.magic ?? 'GGUF', 'latin1'), u32(f.version ?? 3), u64(f.nTensors ?? BigInt(f.tensors.length)), u64(f.nKv ?? BigInt(f.kvs.length))];
  for (const k of f.kvs) parts.push(encodeGgufString(k.key), u32(k.type), k.value);
  for (const t of f.tensors) parts.push(encodeGgufString(t.name), u32(t.nDims ?? t.dims.length), ...t.dims.map(u64), u32(t.type), u64(t.offset));
  const body = Buffer.concat(parts);
  const pad = f.pad === false ? 0 : (f.pad ?? 32);
  return pad ? Buffer.concat([body, Buffer.alloc((pad - (body.length % pad)) % pad)]) : body;
}

export function build(f: RawFile): Buffer {
  return Buffer.concat([headerBytes(f), f.data]);
}

/**
 * The valid file every case starts from: three KVs (a string, a small array, a u32) and three
 * tensors (F32 [4, 2] at 0, Q8_0 [32] at 32, Q4_K [256] at 96), 240 data bytes.
 */
export function baseFile(): RawFile {
  const data = Buffer.alloc(240);
  for (let i = 0; i < 8; i++) data.writeFloatLE(i / 4, 4 * i);
  data.writeUInt16LE(0x3800, 32); // Q8_0 d = 0.5
  for (let i = 0; i < 32; i++) data[34 + i] = (i * 7) & 0xff;
  data.writeUInt16LE(0x3c00, 96); // Q4_K d = 1, dmin = 0.5
  data.writeUInt16LE(0x3800, 98);
  for (let i = 100; i < 240; i++) data[i] = (i * 13) & 0xff;
  return {
    kvs: [
      kv('general.architecture', { type: 'string', value: 'llama' }),
      kv('test.small_array', { type: 'array', elementType: 'u32', values: [1, 2, 3] }),
      kv('llama.block_count', { type: 'u32', value: 1 }),
    ],
    tensors: [
      { name: 'a', dims: [4, 2], type: 0, offset: 0 },
      { name: 'b', dims: [32], type: 8, offset: 32 },
      { name: 'c', dims: [256], type: 12, offset: 96 },
    ],
    data,
  };
}

/** The split keys gguf-split gives every file: split.no (u16), split.count (u16), split.tensors.count (i32). */
export function splitKvs(no: number, count: number, tensors: number): RawKv[] {
  return [kv('split.no', { type: 'u16', value: no }), kv('split.count', { type: 'u16', value: count }), kv('split.tensors.count', { type: 'i32', value: tensors })];
}

/**
 * A valid split model as gguf-split lays it out, file by file: the base file's metadata and
 * tensor 'a' in the first, 'b' (Q8_0) in the second, 'c' (Q4_K) in the third; every file the
 * split keys. Each split case breaks one thing in a copy of these.
 */
export function splitBase(): RawFile[] {
  const b = baseFile();
  const n = 3;
  return [
    { kvs: [...b.kvs, ...splitKvs(0, n, 3)], tensors: [{ ...b.tensors[0], offset: 0 }], data: b.data.subarray(0, 32) },
    { kvs: splitKvs(1, n, 3), tensors: [{ ...b.tensors[1], offset: 0 }], data: b.data.subarray(32, 66) },
    { kvs: splitKvs(2, n, 3), tensors: [{ ...b.tensors[2], offset: 0 }], data: b.data.subarray(96, 240) },
  ];
}
