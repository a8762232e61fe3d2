/**
 * The GGUF malformed-file suite: every rule the native reader enforces, each broken on its own
 * in a copy of a valid file, must be refused with a FormatError whose message names the file
 * and the rule (and the tensor where there is one), by the sync and async readers alike. Then
 * what a too strict reader would wrongly refuse, and a writer -> reader -> dequantizer round trip.
 * Split models (llama.cpp's gguf-split, lib/io/gguf-split.ts): each rule broken on its own in a
 * copy of a valid three-file model, refused at discovery naming the file that breaks it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { dequantizeGguf, readGgufHeader, readGgufHeaderSync, GgufArray } from '../../lib/io/gguf';
import { dequantizeRef } from '../../lib/io/gguf-quant-ref';
import { GGML_TYPES, DequantType, ggmlBytes } from '../../lib/io/gguf-types';
import { encodeGguf, llamaMetadata, writeGguf, writeGgufSplit } from '../../lib/io/gguf-writer';
import { openModels } from '../../lib/io/discover';
import { runCli } from '../helpers/cli';
import { FormatError, IoError } from '../../lib/errors';
import { tmpDir } from './safetensors-helpers';
import { baseFile, build, headerBytes, kv, RawFile, splitBase, splitKvs, u32, u64 } from './gguf-helpers';

const dir = tmpDir('np-gguf-format-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function edited(edit: (f: RawFile) => void): Buffer {
  const f = baseFile();
  edit(f);
  return build(f);
}
const base = build(baseFile());
const headerEnd = base.length - 240;
/** A value field of the given type id holding raw bytes. */
const raw = (key: string, type: number, value: Buffer) => ({ key, type, value });
/** Nested arrays of u8, `depth` levels deep, the innermost empty. */
function nested(depth: number): Buffer {
  let inner = Buffer.concat([u32(0), u64(0)]);
  for (let i = 1; i < depth; i++) inner = Buffer.concat([u32(9), u64(1), inner]);
  return inner;
}

interface Case {
  name: string;
  file: () => Buffer;
  rule: RegExp;
  tensor?: string;
}

const cases: Case[] = [
  // Magic and version
  { name: 'empty file', file: () => Buffer.alloc(0), rule: /truncated: magic needs 4 bytes at offset 0 but the file is 0 bytes/ },
  { name: 'wrong magic', file: () => edited((f) => (f.magic = 'GGML')), rule: /not a GGUF file \(magic is not "GGUF"\)/ },
  { name: 'truncated in the version', file: () => base.subarray(0, 6), rule: /truncated: version needs 4 bytes at offset 4/ },
  { name: 'version 1', file: () => edited((f) => (f.version = 1)), rule: /GGUF version 1 is not supported/ },
  { name: 'version 0', file: () => edited((f) => (f.version = 0)), rule: /unsupported GGUF version 0 \(supported: 2, 3\)/ },
  { name: 'version 4', file: () => edited((f) => (f.version = 4)), rule: /unsupported GGUF version 4/ },
  { name: 'big-endian version 3', file: () => edited((f) => (f.version = 0x03000000)), rule: /big-endian GGUF is not supported/ },
  // Counts, bounded before anything is allocated
  { name: 'tensor count 2^60', file: () => edited((f) => (f.nTensors = 1n << 60n)), rule: /tensor count 1152921504606846976 is more than the file can hold/ },
  { name: 'tensor count larger than the file can hold', file: () => edited((f) => (f.nTensors = 1000n)), rule: /tensor count 1000 is more than the file can hold \(limit \d+\)/ },
  { name: 'key-value count 2^60', file: () => edited((f) => (f.nKv = 1n << 60n)), rule: /key-value count 1152921504606846976 is more than the file can hold/ },
  { name: 'truncated in the counts', file: () => base.subarray(0, 20), rule: /truncated: key-value count needs 8 bytes at offset 16/ },
  // Strings
  { name: 'key length 2^63', file: () => replaceAt(base, 24, u64(1n << 63n)), rule: /key length 9223372036854775808 exceeds the limit of 65535 bytes/ },
  { name: 'key length past the end of the file', file: () => replaceAt(base, 24, u64(60000)), rule: /key length 60000 runs past the end of the file/ },
  { name: 'string value length 2^40', file: () => replaceAt(base, 24 + 8 + 20 + 4, u64(1n << 40n)), rule: /key 'general.architecture': value string length 1099511627776 exceeds the limit/ },
  { name: 'string value length past the end of the file', file: () => replaceAt(base, 24 + 8 + 20 + 4, u64(100000)), rule: /key 'general.architecture': value string length 100000 runs past the end of the file/ },
  { name: 'tensor name length 2^62', file: () => replaceAt(base, tensorInfoAt(0), u64(1n << 62n)), rule: /tensor name length 4611686018427387904 exceeds the limit/ },
  { name: 'duplicate key', file: () => edited((f) => f.kvs.push(kv('general.architecture', { type: 'string', value: 'x' }))), rule: /duplicate key 'general.architecture'/ },
  // Value types and arrays
  { name: 'value type 13', file: () => edited((f) => (f.kvs[2].type = 13)), rule: /key 'llama.block_count': value type 13 is not a GGUF value type \(0..12\)/ },
  { name: 'value type 2^32-1', file: () => edited((f) => (f.kvs[2].type = 0xffffffff)), rule: /value type 4294967295 is not a GGUF value type/ },
  { name: 'array element type 13', file: () => edited((f) => (f.kvs[1] = raw('arr', 9, Buffer.concat([u32(13), u64(0)])))), rule: /key 'arr': array element type 13 is not a GGUF value type/ },
  { name: 'array count 2^62', file: () => edited((f) => (f.kvs[1] = raw('arr', 9, Buffer.concat([u32(4), u64(1n << 62n)])))), rule: /key 'arr': array of 4611686018427387904 u32 elements cannot fit in the \d+ bytes left/ },
  { name: 'array of strings longer than the file', file: () => edited((f) => (f.kvs[1] = raw('arr', 9, Buffer.concat([u32(8), u64(1000)])))), rule: /key 'arr': array of 1000 string elements cannot fit/ },
  { name: 'array of arrays longer than the file', file: () => edited((f) => (f.kvs[1] = raw('arr', 9, Buffer.concat([u32(9), u64(1000)])))), rule: /key 'arr': array of 1000 array elements cannot fit/ },
  { name: 'arrays nested 5 deep', file: () => edited((f) => (f.kvs[1] = raw('arr', 9, nested(5)))), rule: /key 'arr': arrays nested deeper than 4 levels/ },
  { name: 'bool that is neither 0 nor 1', file: () => edited((f) => (f.kvs[2] = raw('flag', 7, Buffer.from([2])))), rule: /key 'flag': value: bool must be 0 or 1 \(found 2\)/ },
  // (Cut where the counts still fit the bytes left: otherwise the count bound refuses first.)
  { name: 'truncated inside a key-value', file: () => { const h = headerBytes({ ...baseFile(), tensors: [], pad: false }); return h.subarray(0, h.length - 2); }, rule: /truncated: key 'llama.block_count': value needs 4 bytes at offset \d+ but the file is \d+ bytes/ },
  // general.alignment
  { name: 'alignment as u64', file: () => edited((f) => f.kvs.push(kv('general.alignment', { type: 'u64', value: 32 }))), rule: /general.alignment must be a u32 \(found u64\)/ },
  { name: 'alignment 0', file: () => edited((f) => f.kvs.push(kv('general.alignment', { type: 'u32', value: 0 }))), rule: /general.alignment 0 is not a nonzero power of two/ },
  { name: 'alignment 48', file: () => edited((f) => f.kvs.push(kv('general.alignment', { type: 'u32', value: 48 }))), rule: /general.alignment 48 is not a nonzero power of two/ },
  // Tensor infos
  { name: 'empty tensor name', file: () => edited((f) => (f.tensors[1].name = '')), rule: /tensor 1 has an empty name/ },
  { name: 'duplicate tensor name', file: () => edited((f) => (f.tensors[2].name = 'a')), rule: /duplicate tensor name/, tensor: 'a' },
  { name: 'n_dims 0', file: () => edited((f) => (f.tensors[0] = { name: 'a', dims: [], type: 0, offset: 0 })), rule: /n_dims 0 is outside 1..4/, tensor: 'a' },
  { name: 'n_dims 5', file: () => edited((f) => (f.tensors[0] = { name: 'a', dims: [2, 2, 1, 1, 1], type: 0, offset: 0 })), rule: /n_dims 5 is outside 1..4/, tensor: 'a' },
  { name: 'n_dims 2^32-1', file: () => edited((f) => (f.tensors[0].nDims = 0xffffffff)), rule: /n_dims 4294967295 is outside 1..4/, tensor: 'a' },
  { name: 'a dimension of 0', file: () => edited((f) => (f.tensors[0].dims = [4, 0])), rule: /dimension 1 is 0 \(each must be at least 1\)/, tensor: 'a' },
  { name: 'element count overflow', file: () => edited((f) => (f.tensors[0].dims = [1n << 32n, 1n << 32n])), rule: /element count overflows/, tensor: 'a' },
  { name: 'dimension 2^64-1', file: () => edited((f) => (f.tensors[0].dims = [0xffffffffffffffffn, 1])), rule: /element count overflows/, tensor: 'a' },
  { name: 'byte size overflow', file: () => edited((f) => (f.tensors[0].dims = [1n << 52n])), rule: /byte size overflows/, tensor: 'a' },
  { name: 'unknown ggml type (removed id 4)', file: () => edited((f) => (f.tensors[0].type = 4)), rule: /unknown ggml type 4/, tensor: 'a' },
  { name: 'unknown ggml type 1000', file: () => edited((f) => (f.tensors[0].type = 1000)), rule: /unknown ggml type 1000/, tensor: 'a' },
  { name: 'row length not a multiple of the block size', file: () => edited((f) => (f.tensors[1].dims = [16, 2])), rule: /row length 16 is not a multiple of Q8_0's block size 32/, tensor: 'b' },
  { name: 'truncated inside the tensor infos', file: () => base.subarray(0, tensorInfoAt(1) + 17), rule: /truncated: tensor 'b': dimensions needs 8 bytes at offset \d+/ },
  // Offsets and the data section
  { name: 'offset not a multiple of the alignment', file: () => edited((f) => (f.tensors[1].offset = 40)), rule: /offset 40 is not a multiple of the alignment 32/, tensor: 'b' },
  { name: 'offset past the data section', file: () => edited((f) => (f.tensors[2].offset = 256)), rule: /data \[256, \+144\) runs past the end of the data section \(240 bytes\)/, tensor: 'c' },
  { name: 'offset 2^63', file: () => edited((f) => (f.tensors[2].offset = 1n << 63n)), rule: /data \[9223372036854775808, \+144\) runs past the end of the data section/, tensor: 'c' },
  { name: 'tensor larger than the data section', file: () => edited((f) => (f.tensors[0].dims = [4, 200])), rule: /data \[0, \+3200\) runs past the end of the data section/, tensor: 'a' },
  { name: 'a 1 KB file declaring a 2 GB tensor', file: () => edited((f) => (f.tensors[0].dims = [1 << 20, 512])), rule: /data \[0, \+2147483648\) runs past the end of the data section/, tensor: 'a' },
  { name: 'overlapping tensors', file: () => edited((f) => (f.tensors[1].offset = 0)), rule: /data overlaps tensor '(a|b)'/, tensor: undefined },
  { name: 'data truncated', file: () => base.subarray(0, base.length - 1), rule: /tensor 'c': data \[96, \+144\) runs past the end of the data section \(239 bytes\)/, tensor: 'c' },
  { name: 'file ends before the data section starts', file: () => edited((f) => { f.pad = false; f.data = Buffer.alloc(0); }), rule: /truncated: the data section starts at offset \d+ but the file is \d+ bytes/ },
];

/** `buf` with `bytes` written at `at`. */
function replaceAt(buf: Buffer, at: number, bytes: Buffer): Buffer {
  const out = Buffer.from(buf);
  bytes.copy(out, at);
  return out;
}
/** Where tensor info i of the base file starts. */
function tensorInfoAt(i: number): number {
  const f = baseFile();
  const noTensors = headerBytes({ ...f, tensors: [], pad: false });
  let at = noTensors.length;
  for (let k = 0; k < i; k++) at += 8 + Buffer.byteLength(f.tensors[k].name as string) + 4 + 8 * f.tensors[k].dims.length + 4 + 8;
  return at;
}

let counter = 0;
function writeCase(buf: Buffer): string {
  const p = path.join(dir, `case-${counter++}.gguf`);
  fs.writeFileSync(p, buf);
  return p;
}

function expectRefused(err: unknown, file: string, c: Case): void {
  expect(err).toBeInstanceOf(FormatError);
  const e = err as FormatError;
  expect(e.code).toBe('E_FORMAT');
  expect(e.message).toMatch(c.rule);
  expect(e.message.startsWith(`${file}: `)).toBe(true);
  expect(e.file).toBe(file);
  if (c.rule.source !== /data overlaps tensor '(a|b)'/.source) expect(e.tensor).toBe(c.tensor);
}

describe('GGUF reader refuses what the format forbids', () => {
  it('the base file is valid (so each case breaks exactly one rule)', () => {
    const h = readGgufHeaderSync(writeCase(base));
    expect(h.tensors.map((t) => [t.name, t.type, t.offset, t.bytes])).toEqual([['a', 'F32', headerEnd, 32], ['b', 'Q8_0', headerEnd + 32, 34], ['c', 'Q4_K', headerEnd + 96, 144]]);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const file = writeCase(c.file());
    let syncError: unknown;
    try {
      readGgufHeaderSync(file);
    } catch (e) {
      syncError = e;
    }
    expectRefused(syncError, file, c);
    let asyncError: unknown;
    await readGgufHeader(file).catch((e) => (asyncError = e));
    expectRefused(asyncError, file, c);
    expect((asyncError as Error).message).toBe((syncError as Error).message);
  });

  it('a missing file is an IoError naming it', async () => {
    const file = path.join(dir, 'missing.gguf');
    expect(() => readGgufHeaderSync(file)).toThrow(IoError);
    await expect(readGgufHeader(file)).rejects.toThrow(IoError);
    expect(() => readGgufHeaderSync(file)).toThrow(file);
  });

  it('hostile counts and lengths are refused without allocating what they declare', () => {
    const hostile = [
      edited((f) => (f.nKv = 1n << 60n)),
      edited((f) => (f.nTensors = 1n << 60n)),
      edited((f) => (f.tensors[0].dims = [1 << 20, 512])),
      edited((f) => (f.kvs[1] = raw('arr', 9, Buffer.concat([u32(8), u64(1n << 28n)])))),
      replaceAt(base, 24 + 8 + 20 + 4, u64(200 * 1024 * 1024)), // a 200 MB string, under the cap
    ].map(writeCase);
    for (const file of hostile) expect(fs.statSync(file).size).toBeLessThan(1024);
    const before = process.memoryUsage().rss;
    for (let rep = 0; rep < 20; rep++) for (const file of hostile) expect(() => readGgufHeaderSync(file)).toThrow(FormatError);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('GGUF reader accepts what the format allows', () => {
  it('version 2, and a file with no tensors and no metadata', () => {
    expect(readGgufHeaderSync(writeCase(edited((f) => (f.version = 2)))).version).toBe(2);
    const empty = readGgufHeaderSync(writeCase(build({ kvs: [], tensors: [], data: Buffer.alloc(0), pad: false })));
    expect([empty.version, empty.tensors.length, Object.keys(empty.metadata).length, empty.dataOffset]).toEqual([3, 0, 0, 32]);
  });

  it('metadata values: scalars, small arrays as values, large arrays only as type and count', () => {
    const vocab = Array.from({ length: 5000 }, (_, i) => `tok${i}`);
    const file = writeCase(edited((f) => {
      f.kvs.push(
        kv('tokenizer.ggml.tokens', { type: 'array', elementType: 'string', values: vocab }),
        kv('tokenizer.ggml.scores', { type: 'array', elementType: 'f32', values: vocab.map((_, i) => i) }),
        kv('big.u64', { type: 'u64', value: (1n << 63n) + 5n }),
        kv('neg.i64', { type: 'i64', value: -42n }),
        kv('f', { type: 'f32', value: 0.1 }),
        kv('yes', { type: 'bool', value: true }),
        kv('__proto__', { type: 'string', value: 'own' }),
        { key: 'nested', type: 9, value: nested(4) },
        kv('strings', { type: 'array', elementType: 'string', values: ['a', 'b'] }),
      );
    }));
    const h = readGgufHeaderSync(file);
    const m = h.metadata;
    expect(m['general.architecture']).toBe('llama');
    expect(m['test.small_array']).toEqual({ type: 'array', elementType: 'u32', count: 3, values: [1, 2, 3] });
    expect(m['tokenizer.ggml.tokens']).toEqual({ type: 'array', elementType: 'string', count: 5000 });
    expect((m['tokenizer.ggml.scores'] as GgufArray).values).toBeUndefined();
    expect(m['big.u64']).toBe((1n << 63n) + 5n);
    expect(m['neg.i64']).toBe(-42);
    expect(m.f).toBe(Math.fround(0.1));
    expect(m.yes).toBe(true);
    expect(Object.getOwnPropertyDescriptor(m, '__proto__')?.value).toBe('own');
    expect((m.nested as GgufArray).values?.length).toBe(1);
    expect((m.strings as GgufArray).values).toEqual(['a', 'b']);
    expect(h.metadataTypes['big.u64']).toBe('u64');
    expect(h.metadataTypes['tokenizer.ggml.tokens']).toBe('array');
  });

  it('at most 65,536 array elements per file become values; later arrays are type and count only', () => {
    const file = writeCase(edited((f) => {
      for (let k = 0; k < 70; k++) f.kvs.push(kv(`arr.${k}`, { type: 'array', elementType: 'u8', values: new Array(1000).fill(k) }));
    }));
    const m = readGgufHeaderSync(file).metadata;
    // 3 elements in test.small_array, then 65 arrays of 1000 fit in the budget.
    expect((m['arr.64'] as GgufArray).values?.[0]).toBe(64);
    expect(m['arr.65']).toEqual({ type: 'array', elementType: 'u8', count: 1000 });
  });

  it('general.alignment moves the data section and the offsets', () => {
    const file = path.join(dir, 'aligned.gguf');
    writeGguf(file, { alignment: 256, tensors: [
      { name: 'x', type: 'F32', dims: [3], data: new Float32Array([1, 2, 3]) },
      { name: 'y', type: 'F16', dims: [5], data: new Float32Array(5) },
    ] });
    const h = readGgufHeaderSync(file);
    expect(h.alignment).toBe(256);
    expect(h.dataOffset % 256).toBe(0);
    expect(h.tensors.map((t) => t.offset - h.dataOffset)).toEqual([0, 256]);
  });

  it('every ggml type of the TypeScript table reads back with its name and byte size (the two tables agree)', () => {
    const tensors = GGML_TYPES.map((t) => ({ name: `t.${t.name}`, type: t.name, dims: [t.blockElems * 2, 3], data: new Uint8Array(t.blockBytes * 6) }));
    const file = path.join(dir, 'types.gguf');
    writeGguf(file, { tensors });
    const h = readGgufHeaderSync(file);
    expect(h.tensors.map((t) => [t.name, t.type, t.bytes, t.elements, t.shape])).toEqual(
      GGML_TYPES.map((t) => [`t.${t.name}`, t.name, ggmlBytes(t, t.blockElems * 6), t.blockElems * 6, [3, t.blockElems * 2]]));
  });
});

describe('GGUF round trip: writer -> native reader -> native dequantizer', () => {
  it('F32, F16, BF16, Q8_0, Q4_0 and Q4_K tensors decode as the TypeScript reference does, close to the written values', async () => {
    const types: DequantType[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_K'];
    const values = types.map((_, k) => Float32Array.from({ length: 512 * 3 }, (_, i) => Math.sin(i * 0.37 + k) * (1 + (i % 7))));
    const file = path.join(dir, 'roundtrip.gguf');
    writeGguf(file, {
      metadata: llamaMetadata({ blockCount: 2, embeddingLength: 512, feedForwardLength: 1024, headCount: 8, headCountKv: 2 }),
      tensors: types.map((type, k) => ({ name: `blk.${k}.attn_q.weight`, type, dims: [512, 3], data: () => values[k] })),
    });
    // The streaming file equals the in-memory encoding.
    expect(fs.readFileSync(file).equals(encodeGguf({ metadata: llamaMetadata({ blockCount: 2, embeddingLength: 512, feedForwardLength: 1024, headCount: 8, headCountKv: 2 }), tensors: types.map((type, k) => ({ name: `blk.${k}.attn_q.weight`, type, dims: [512, 3], data: values[k] })) }))).toBe(true);
    const h = await readGgufHeader(file);
    expect(h).toEqual(readGgufHeaderSync(file));
    expect(h.metadata['llama.attention.head_count_kv']).toBe(2);
    const bytes = fs.readFileSync(file);
    const tolerance: Record<string, number> = { F32: 0, F16: 2e-3, BF16: 2e-2, Q8_0: 0.03, Q4_0: 0.6, Q4_K: 0.5 };
    h.tensors.forEach((t, k) => {
      expect([t.type, t.dims, t.shape, t.elements]).toEqual([types[k], [512, 3], [3, 512], 1536]);
      const b = bytes.subarray(t.offset, t.offset + t.bytes);
      const y = dequantizeGguf(t.type, b, t.elements);
      expect(Buffer.from(y.buffer).equals(Buffer.from(dequantizeRef(types[k], b, t.elements).buffer))).toBe(true);
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - values[k][i]));
      expect(worst).toBeLessThanOrEqual(tolerance[t.type]);
    });
  });
});

interface SplitCase {
  name: string;
  /** File name -> bytes, written into a fresh folder. */
  files: () => Record<string, Buffer>;
  /** What is given to discovery: the folder (default) or one of its files. */
  open?: string;
  rule: RegExp;
  /** The file the error names. */
  file: string;
  tensor?: string;
}

const M = (no: number, count = 3) => `m-${String(no).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.gguf`;
/** The valid split model with `edit` applied to its RawFiles, as files m-0000i-of-00003.gguf. */
function splitEdited(edit: (f: RawFile[]) => void = () => undefined): Record<string, Buffer> {
  const f = splitBase();
  edit(f);
  return Object.fromEntries(f.map((x, i) => [M(i + 1), build(x)]));
}
function without(files: Record<string, Buffer>, ...names: string[]): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(files).filter(([n]) => !names.includes(n)));
}
/** Replaces key `key` of a file's metadata. */
function setKv(f: RawFile, key: string, v: Parameters<typeof kv>[1] | null): void {
  const i = f.kvs.findIndex((k) => k.key === key);
  if (v === null) f.kvs.splice(i, 1);
  else f.kvs[i] = kv(key, v);
}

const splitCases: SplitCase[] = [
  // By name, before any header is read
  { name: 'a missing file', files: () => without(splitEdited(), M(2)), rule: /split file 1 of 3 of the model 'm', but m-00002-of-00003\.gguf is missing from/, file: M(1) },
  { name: 'a lone -00002-of-00003 without its siblings', files: () => without(splitEdited(), M(1), M(3)), open: M(2), rule: /split file 2 of 3 of the model 'm', but m-00001-of-00003\.gguf, m-00003-of-00003\.gguf are missing/, file: M(2) },
  { name: 'names that disagree on the number of files', files: () => { const f = splitEdited(); f[M(3, 4)] = f[M(3)]; return without(f, M(3)); }, rule: /its name says 4 split files but m-00001-of-00003\.gguf says 3/, file: M(3, 4) },
  { name: 'a file number outside 1..N', files: () => ({ ...splitEdited(), [M(4)]: splitEdited()[M(3)] }), rule: /split file number 4 is outside 1\.\.3/, file: M(4) },
  { name: 'a file number given twice (name case)', files: () => ({ ...splitEdited(), [M(2).replace('.gguf', '.GGUF')]: splitEdited()[M(2)] }), rule: /split file number 2 is also the number of m-00002-of-00003\.GGUF/, file: M(2) },
  // Split keys against the names and each other
  { name: 'split.count that disagrees with the names', files: () => splitEdited((f) => setKv(f[1], 'split.count', { type: 'u16', value: 4 })), rule: /split\.count is 4 but the file names say 3 files/, file: M(2) },
  { name: 'no split.count', files: () => splitEdited((f) => setKv(f[2], 'split.count', null)), rule: /has no split\.count, but its name makes it file 3 of 3 of a split model/, file: M(3) },
  { name: 'split.no that disagrees with the name', files: () => splitEdited((f) => setKv(f[2], 'split.no', { type: 'u16', value: 5 })), rule: /split\.no is 5 but its name makes it file 3 of 3 \(split\.no 2\)/, file: M(3) },
  { name: 'a duplicate split.no', files: () => splitEdited((f) => setKv(f[1], 'split.no', { type: 'u16', value: 0 })), rule: /split\.no 0 is also the split\.no of .*m-00001-of-00003\.gguf/, file: M(2) },
  { name: 'no split.no', files: () => splitEdited((f) => setKv(f[1], 'split.no', null)), rule: /has no split\.no, but its name makes it file 2 of 3/, file: M(2) },
  { name: 'split.count of another type than u16', files: () => splitEdited((f) => setKv(f[0], 'split.count', { type: 'u32', value: 3 })), rule: /split\.count must be of type u16 \(found u32\)/, file: M(1) },
  { name: 'split.tensors.count of another type than i32', files: () => splitEdited((f) => setKv(f[2], 'split.tensors.count', { type: 'u64', value: 3 })), rule: /split\.tensors\.count must be of type i32 \(found u64\)/, file: M(3) },
  { name: 'a tensor named in two files', files: () => splitEdited((f) => (f[2].tensors[0].name = 'a')), rule: /tensor 'a' is also in .*m-00001-of-00003\.gguf/, file: M(3), tensor: 'a' },
  { name: 'tensors that do not add up to split.tensors.count', files: () => splitEdited((f) => f.forEach((x) => setKv(x, 'split.tensors.count', { type: 'i32', value: 4 }))), rule: /split\.tensors\.count says 4 tensors but the 3 files hold 3/, file: M(1) },
  { name: 'split.tensors.count that differs between files', files: () => splitEdited((f) => setKv(f[2], 'split.tensors.count', { type: 'i32', value: 4 })), rule: /split\.tensors\.count 4 differs from 3 in .*m-00001-of-00003\.gguf/, file: M(3) },
  { name: 'no split.tensors.count in the first file', files: () => splitEdited((f) => setKv(f[0], 'split.tensors.count', null)), rule: /has no split\.tensors\.count \(the tensors of all 3 files together\)/, file: M(1) },
  { name: 'files of different GGUF versions', files: () => splitEdited((f) => (f[1].version = 2)), rule: /GGUF version 2 differs from version 3 of .*m-00001-of-00003\.gguf/, file: M(2) },
  { name: 'a later file of another architecture', files: () => splitEdited((f) => f[2].kvs.push(kv('general.architecture', { type: 'string', value: 'gpt2' }))), rule: /general\.architecture 'gpt2' differs from 'llama' in/, file: M(3) },
  { name: 'a file whose split.count says it is one of several, under a plain name', files: () => ({ 'x.gguf': splitEdited()[M(1)] }), rule: /split\.count 3 says it is one file of a split model, but its name does not end in -0000i-of-0000N\.gguf/, file: 'x.gguf' },
  { name: 'a file of the split that is itself malformed', files: () => { const f = splitEdited(); f[M(3)] = f[M(3)].subarray(0, f[M(3)].length - 1); return f; }, rule: /tensor 'c': data \[0, \+144\) runs past the end of the data section/, file: M(3), tensor: 'c' },
];

describe('split GGUF models: discovery refuses what gguf-split cannot have written', () => {
  it('the split base is valid: one model of three files, the tensors of all of them', async () => {
    const d = path.join(dir, 'split-base');
    fs.mkdirSync(d);
    for (const [n, b] of Object.entries(splitEdited())) fs.writeFileSync(path.join(d, n), b);
    const set = await openModels([d]);
    expect(set.models.map((m) => [m.id, m.files.map((f) => path.basename(f)), m.ggufSplit])).toEqual([['m', [M(1), M(2), M(3)], { files: 3 }]]);
    expect(set.models[0].tensors.map((t) => [t.name, path.basename(t.file), t.dtype])).toEqual([['a', M(1), 'F32'], ['b', M(2), 'Q8_0'], ['c', M(3), 'Q4_K']]);
  });

  it.each(splitCases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const d = path.join(dir, `split-case-${i}`);
    fs.mkdirSync(d);
    for (const [n, b] of Object.entries(c.files())) fs.writeFileSync(path.join(d, n), b);
    const err = await openModels([c.open ? path.join(d, c.open) : d]).catch((e) => e);
    const file = path.join(d, c.file);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(c.rule);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.file).toBe(file);
    expect(err.tensor).toBe(c.tensor);
  });
});

describe('split GGUF models: what gguf-split and plain files may hold', () => {
  const write = (d: string, files: Record<string, Buffer>): string => {
    fs.mkdirSync(d, { recursive: true });
    for (const [n, b] of Object.entries(files)) fs.writeFileSync(path.join(d, n), b);
    return d;
  };

  it('a plain file with split.count 1 (and split.no 0, split.tensors.count), or no split keys, is a model on its own', async () => {
    const one = baseFile();
    one.kvs.push(...splitKvs(0, 1, 3));
    const d = write(path.join(dir, 'split-plain'), { 'one.gguf': build(one), 'none.gguf': build(baseFile()), 'z-00001-of-00001.gguf': build(baseFile()) });
    const set = await openModels([d]);
    expect(set.models.map((m) => [m.id, m.tensors.length, m.files.length, m.ggufSplit])).toEqual([['none', 3, 1, undefined], ['one', 3, 1, undefined], ['z', 3, 1, undefined]]);
  });

  it('later files with the default alignment beside a first file with its own (as gguf-split writes them)', async () => {
    const d = path.join(dir, 'split-aligned');
    fs.mkdirSync(d);
    const files = writeGgufSplit(path.join(d, 'al'), {
      alignment: 256,
      metadata: llamaMetadata({ blockCount: 1, embeddingLength: 32, feedForwardLength: 64, headCount: 2 }),
      tensors: ['token_embd.weight', 'output_norm.weight', 'output.weight'].map((name, k) => ({ name, type: 'F32', dims: [32, 2], data: new Float32Array(64).fill(k) })),
    }, { files: 3 });
    const h = files.map((f) => readGgufHeaderSync(f));
    expect(h.map((x) => x.alignment)).toEqual([256, 32, 32]);
    const set = await openModels([d]);
    expect(set.models.map((m) => [m.id, m.tensors.map((t) => t.name)])).toEqual([['al', ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight']]]);
  });

  it('the files given one by one, or any one of them, are the one model, without a warning', async () => {
    const d = write(path.join(dir, 'split-given'), { ...splitEdited(), 'other.gguf': build(baseFile()) });
    const all = await openModels([M(3), M(1), M(2)].map((n) => path.join(d, n)));
    expect([all.models.map((m) => m.id), all.warnings]).toEqual([['m'], []]);
    const one = await openModels([path.join(d, M(2))]);
    expect(one.models[0].path).toBe(path.join(d, M(1)));
    expect((await openModels([d])).models.map((m) => m.id)).toEqual(['m', 'other']);
  });

  it('`phylogeny inspect` on any file of a split model shows the one model and says it is split; a broken split exits 1 naming the file', async () => {
    const d = write(path.join(dir, 'split-cli'), splitEdited());
    const r = await runCli(['inspect', path.join(d, M(3))]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`model m (file, gguf) at ${path.join(d, M(1))}`);
    expect(r.out).toContain('split into 3 files (llama.cpp gguf-split), read as one model');
    expect(r.out).toMatch(/^total: 3 tensors,/m);
    fs.rmSync(path.join(d, M(2)));
    const bad = await runCli(['inspect', path.join(d, M(3))]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${path.join(d, M(1))}: split file 1 of 3 of the model 'm', but m-00002-of-00003.gguf is missing`);
  });

  it('a folder holding model-0000i-of-0000N.gguf is one model named by the folder', async () => {
    const d = write(path.join(dir, 'split-folder', 'llama-q8'), Object.fromEntries(Object.entries(splitEdited()).map(([n, b]) => [n.replace(/^m-/, 'model-'), b])));
    for (const p of [d, path.dirname(d)]) {
      const set = await openModels([p]);
      expect(set.models.map((m) => [m.id, m.format, m.path, m.files.length])).toEqual([['llama-q8', 'hf-sharded', d, 3]]);
    }
  });
});
