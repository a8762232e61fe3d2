/**
 * The malformed-file suite: every rule the safetensors reader enforces, each broken on its
 * own in a copy of a valid file, must be refused with E_FORMAT, a message naming the rule
 * and the file, and the tensor where there is one. Then the valid edge cases that a too
 * strict reader would wrongly refuse.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DTYPE_SIZES, decodeToFloat32, FloatDtype } from '../../lib/io/dtype';
import { readHeader, readHeaderSync, MAX_HEADER_BYTES } from '../../lib/io/safetensors';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { FormatError, IoError, PhylogenyError } from '../../lib/errors';
import { main } from '../../lib/cli/main';
import { assemble, splitFile, tmpDir, writeBase } from './safetensors-helpers';

const dir = tmpDir('np-st-format-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = writeBase(dir);
const { json: baseJson, data: baseData } = splitFile(base);

type Header = Record<string, unknown>;
/** The base header with `edit` applied to its parsed JSON. */
function edited(edit: (h: Header) => void, data: Buffer = baseData): Buffer {
  const h = JSON.parse(baseJson) as Header;
  edit(h);
  return assemble(JSON.stringify(h), data);
}
function entry(h: Header, name: string): Record<string, unknown> {
  return h[name] as Record<string, unknown>;
}
/** The base header with a text substitution (for what JSON.stringify cannot express). */
function replaced(from: string | RegExp, to: string): Buffer {
  const text = baseJson.replace(from, to);
  if (text === baseJson) throw new Error(`test setup: ${from} not found in ${baseJson}`);
  return assemble(text, baseData);
}
function withHeaderBytes(bytes: number[], at: string): Buffer {
  const i = Buffer.from(baseJson).indexOf(at);
  if (i < 0) throw new Error('test setup');
  const body = Buffer.from(baseJson);
  return assemble(Buffer.concat([body.subarray(0, i), Buffer.from(bytes), body.subarray(i)]), baseData);
}

interface Case {
  name: string;
  file: () => Buffer;
  rule: RegExp;
  tensor?: string;
}

const cases: Case[] = [
  // The length prefix
  { name: 'empty file', file: () => Buffer.alloc(0), rule: /0 bytes, too short for the 8-byte header length/ },
  { name: 'file shorter than 8 bytes', file: () => base.subarray(0, 5), rule: /5 bytes, too short for the 8-byte header length/ },
  { name: 'header length over 100 MB', file: () => assemble(baseJson, baseData, BigInt(MAX_HEADER_BYTES + 1)), rule: /header length 100000001 exceeds the limit of 100000000 bytes/ },
  { name: 'header length 2^64-1', file: () => assemble(baseJson, baseData, 0xffffffffffffffffn), rule: /header length 18446744073709551615 exceeds the limit/ },
  { name: 'header length past the end of the file', file: () => assemble(baseJson, baseData, BigInt(baseJson.length + baseData.length + 1)), rule: /header length \d+ runs past the end of the file \(\d+ bytes\)/ },
  // The limit is inclusive: a 100,000,000-byte header is allowed, so this one fails on size.
  { name: 'header length exactly at the limit but past the end', file: () => assemble(baseJson, baseData, BigInt(MAX_HEADER_BYTES)), rule: /header length 100000000 runs past the end of the file/ },
  // UTF-8
  { name: 'overlong UTF-8 (C0 AF)', file: () => withHeaderBytes([0xc0, 0xaf], '"w"'), rule: /header is not valid UTF-8 \(at byte \d+ of the header\)/ },
  { name: 'overlong 3-byte UTF-8 (E0 80 AF)', file: () => withHeaderBytes([0xe0, 0x80, 0xaf], 'w"'), rule: /not valid UTF-8/ },
  { name: 'UTF-8 encoded surrogate (ED A0 80)', file: () => withHeaderBytes([0xed, 0xa0, 0x80], 'w"'), rule: /not valid UTF-8/ },
  { name: 'byte above F4', file: () => withHeaderBytes([0xf5, 0x80, 0x80, 0x80], 'w"'), rule: /not valid UTF-8/ },
  { name: 'code point above U+10FFFF (F4 90 80 80)', file: () => withHeaderBytes([0xf4, 0x90, 0x80, 0x80], 'w"'), rule: /not valid UTF-8/ },
  { name: 'lone continuation byte', file: () => withHeaderBytes([0x80], 'w"'), rule: /not valid UTF-8/ },
  { name: 'truncated UTF-8 sequence', file: () => withHeaderBytes([0xe2, 0x82], 'w"'), rule: /not valid UTF-8/ },
  { name: 'invalid UTF-8 in the padding', file: () => assemble(Buffer.concat([Buffer.from(baseJson), Buffer.from([0xff])]), baseData), rule: /not valid UTF-8/ },
  // JSON
  { name: 'empty header', file: () => assemble('', baseData), rule: /header is not valid JSON: unexpected end of input/ },
  { name: 'truncated JSON', file: () => assemble(baseJson.trimEnd().slice(0, -1), baseData), rule: /header is not valid JSON/ },
  { name: 'trailing comma', file: () => replaced(/}\s*$/, ',}'), rule: /header is not valid JSON: expected a string key/ },
  { name: 'single-quoted key', file: () => replaced('"w"', "'w'"), rule: /header is not valid JSON/ },
  { name: 'NaN literal', file: () => replaced('"data_offsets":[0,24]', '"data_offsets":[0,NaN]'), rule: /header is not valid JSON/ },
  { name: 'leading zero', file: () => replaced('"shape":[2,3]', '"shape":[02,3]'), rule: /header is not valid JSON: leading zero/ },
  { name: 'comment', file: () => replaced(/^{/, '{/* c */'), rule: /header is not valid JSON/ },
  { name: 'garbage after the document', file: () => replaced(/}\s*$/, '} x'), rule: /header is not valid JSON: unexpected 'x' after the end of the document/ },
  { name: 'second document', file: () => replaced(/}\s*$/, '}{}'), rule: /after the end of the document/ },
  { name: 'lone high surrogate escape', file: () => replaced('"w"', '"w\\ud800"'), rule: /header is not valid JSON: lone high surrogate/ },
  { name: 'lone low surrogate escape', file: () => replaced('"w"', '"w\\udc00"'), rule: /header is not valid JSON: lone low surrogate/ },
  { name: 'high surrogate then non-surrogate', file: () => replaced('"w"', '"w\\ud800\\u0041"'), rule: /high surrogate not followed by a low surrogate/ },
  { name: 'invalid escape', file: () => replaced('"w"', '"w\\x41"'), rule: /invalid escape/ },
  { name: 'bad hex in \\u escape', file: () => replaced('"w"', '"w\\u00g1"'), rule: /invalid hex digit/ },
  { name: 'raw control character in a string', file: () => replaced('"w"', '"w\t"'), rule: /unescaped control character 0x09/ },
  { name: 'unterminated string', file: () => assemble('{"w', baseData), rule: /unterminated string/ },
  { name: 'misspelt literal', file: () => replaced(/^{/, '{"__metadata__":{"a":"b"},"x":tru,'), rule: /invalid literal/ },
  { name: 'nesting deeper than 64 levels', file: () => replaced(/^{/, `{"__metadata__":${'['.repeat(100)}${']'.repeat(100)},`), rule: /header is not valid JSON: nesting deeper than 64 levels/ },
  { name: 'hostile nesting (100k levels)', file: () => assemble('['.repeat(100000), baseData), rule: /nesting deeper than 64 levels/ },
  // Top level
  { name: 'header is an array', file: () => assemble('[]', baseData), rule: /header is not a JSON object \(found an array\)/ },
  { name: 'header is a string', file: () => assemble('"x"', baseData), rule: /header is not a JSON object \(found a string\)/ },
  { name: 'header is a number', file: () => assemble('3', baseData), rule: /header is not a JSON object \(found a number\)/ },
  { name: 'header is null', file: () => assemble('null', baseData), rule: /header is not a JSON object \(found null\)/ },
  // Names
  { name: 'duplicate tensor name', file: () => replaced('"b":', '"w":'), rule: /tensor 'w': duplicate tensor name/, tensor: 'w' },
  { name: 'duplicate key inside an entry', file: () => replaced('"dtype":"F32"', '"dtype":"F32","dtype":"F32"'), rule: /duplicate key "dtype"/ },
  { name: 'duplicate __metadata__', file: () => replaced(/^{/, '{"__metadata__":{},"__metadata__":{},'), rule: /duplicate key "__metadata__"/ },
  { name: 'duplicate metadata key', file: () => replaced(/^{/, '{"__metadata__":{"k":"a","k":"b"},'), rule: /duplicate key "k"/ },
  // __metadata__
  { name: '__metadata__ is an array', file: () => edited((h) => (h.__metadata__ = ['a'])), rule: /__metadata__ must be an object of string to string \(found an array\)/ },
  { name: '__metadata__ is null', file: () => edited((h) => (h.__metadata__ = null)), rule: /__metadata__ must be an object of string to string \(found null\)/ },
  { name: '__metadata__ value is a number', file: () => edited((h) => (h.__metadata__ = { k: 1 })), rule: /__metadata__ must be an object of string to string \(value of 'k' is a number\)/ },
  { name: '__metadata__ value is an object', file: () => edited((h) => (h.__metadata__ = { k: { x: 'y' } })), rule: /value of 'k' is an object/ },
  // Entries
  { name: 'entry is an array', file: () => edited((h) => (h.w = [1, 2])), rule: /tensor 'w': entry must be an object with dtype, shape and data_offsets \(found an array\)/, tensor: 'w' },
  { name: 'entry is a string', file: () => edited((h) => (h.b = 'F16')), rule: /entry must be an object .*found a string/, tensor: 'b' },
  { name: 'missing dtype', file: () => edited((h) => delete entry(h, 'w').dtype), rule: /tensor 'w': missing field 'dtype'/, tensor: 'w' },
  { name: 'missing shape', file: () => edited((h) => delete entry(h, 'b').shape), rule: /tensor 'b': missing field 'shape'/, tensor: 'b' },
  { name: 'missing data_offsets', file: () => edited((h) => delete entry(h, 'e').data_offsets), rule: /tensor 'e': missing field 'data_offsets'/, tensor: 'e' },
  { name: 'extra field', file: () => edited((h) => (entry(h, 'w').offset = 3)), rule: /tensor 'w': unexpected field 'offset'/, tensor: 'w' },
  // dtype
  { name: 'unknown dtype', file: () => edited((h) => (entry(h, 'w').dtype = 'F31')), rule: /tensor 'w': unknown dtype 'F31'/, tensor: 'w' },
  { name: 'lower-case dtype', file: () => edited((h) => (entry(h, 'w').dtype = 'f32')), rule: /unknown dtype 'f32'/, tensor: 'w' },
  { name: 'empty dtype', file: () => edited((h) => (entry(h, 'b').dtype = '')), rule: /unknown dtype ''/, tensor: 'b' },
  { name: 'dtype not a string', file: () => edited((h) => (entry(h, 'w').dtype = 4)), rule: /dtype must be a string \(found a number\)/, tensor: 'w' },
  // shape
  { name: 'shape not an array', file: () => edited((h) => (entry(h, 'w').shape = 6)), rule: /tensor 'w': shape must be an array of non-negative integers \(found a number\)/, tensor: 'w' },
  { name: 'negative dimension', file: () => edited((h) => (entry(h, 'w').shape = [-2, -3])), rule: /shape must hold non-negative integers \(found negative -2\)/, tensor: 'w' },
  { name: 'fractional dimension', file: () => replaced('"shape":[2,3]', '"shape":[2.0,3]'), rule: /shape must hold non-negative integers \(found non-integer 2.0\)/, tensor: 'w' },
  { name: 'exponent dimension', file: () => replaced('"shape":[2,3]', '"shape":[2,3e0]'), rule: /found non-integer 3e0/, tensor: 'w' },
  { name: 'string dimension', file: () => edited((h) => (entry(h, 'w').shape = ['2', 3])), rule: /shape must hold non-negative integers \(found a string\)/, tensor: 'w' },
  { name: 'nested dimension', file: () => edited((h) => (entry(h, 'w').shape = [[2], 3])), rule: /shape must hold non-negative integers \(found an array\)/, tensor: 'w' },
  { name: 'dimension over 64 bits', file: () => replaced('"shape":[2,3]', '"shape":[18446744073709551616,3]'), rule: /shape value 18446744073709551616 overflows 64 bits/, tensor: 'w' },
  { name: 'element count overflowing 64 bits', file: () => replaced('"shape":[2,3]', '"shape":[4294967296,4294967296,0]'), rule: /element count of shape \[4294967296, 4294967296, 0\] overflows 64 bits/, tensor: 'w' },
  { name: 'byte size overflowing 64 bits', file: () => replaced('"shape":[2,3]', '"shape":[1125899906842624,8192]'), rule: /byte size of shape \[1125899906842624, 8192\] x F32 overflows 64 bits/, tensor: 'w' },
  { name: 'dimension not exact in JavaScript', file: () => replaced('"shape":[2,3]', '"shape":[9007199254740992,0]'), rule: /shape value 9007199254740992 is larger than 2\^53-1/, tensor: 'w' },
  // data_offsets
  { name: 'data_offsets not an array', file: () => edited((h) => (entry(h, 'w').data_offsets = 24)), rule: /tensor 'w': data_offsets must be an array \[begin, end\] \(found a number\)/, tensor: 'w' },
  { name: 'data_offsets with one value', file: () => edited((h) => (entry(h, 'w').data_offsets = [0])), rule: /data_offsets must be \[begin, end\] \(found 1 values\)/, tensor: 'w' },
  { name: 'data_offsets with three values', file: () => edited((h) => (entry(h, 'w').data_offsets = [0, 24, 24])), rule: /data_offsets must be \[begin, end\] \(found more than 2 values\)/, tensor: 'w' },
  { name: 'negative offset', file: () => edited((h) => (entry(h, 'w').data_offsets = [-1, 23])), rule: /data_offsets must hold non-negative integers \(found negative -1\)/, tensor: 'w' },
  { name: 'fractional offset', file: () => replaced('"data_offsets":[0,24]', '"data_offsets":[0,24.5]'), rule: /data_offsets must hold non-negative integers \(found non-integer 24.5\)/, tensor: 'w' },
  { name: 'offset over 64 bits', file: () => replaced('"data_offsets":[0,24]', '"data_offsets":[0,99999999999999999999999]'), rule: /data_offsets value 99999999999999999999999 overflows 64 bits/, tensor: 'w' },
  { name: 'begin after end', file: () => edited((h) => (entry(h, 'w').data_offsets = [24, 0])), rule: /data_offsets begin 24 is after end 0/, tensor: 'w' },
  // Size
  { name: 'size does not match the shape', file: () => edited((h) => (entry(h, 'w').shape = [2, 4])), rule: /tensor 'w': size mismatch: data_offsets \[0, 24\] span 24 bytes but shape \[2, 4\] of F32 needs 32/, tensor: 'w' },
  { name: 'size does not match the dtype', file: () => edited((h) => (entry(h, 'w').dtype = 'F64')), rule: /size mismatch: .* shape \[2, 3\] of F64 needs 48/, tensor: 'w' },
  { name: 'scalar with the wrong size', file: () => edited((h) => (entry(h, 'e').shape = [])), rule: /size mismatch: data_offsets \[30, 34\] span 4 bytes but shape \[\] of BF16 needs 2/, tensor: 'e' },
  // Layout
  { name: 'overlapping offsets', file: () => edited((h) => { entry(h, 'b').data_offsets = [20, 26]; entry(h, 'e').data_offsets = [26, 30]; }), rule: /tensor 'b': overlapping data_offsets: \[20, 26\] starts inside tensor 'w', which ends at 24/, tensor: 'b' },
  { name: 'two tensors at the same offsets', file: () => edited((h) => { entry(h, 'b').dtype = 'F32'; entry(h, 'b').shape = [6]; entry(h, 'b').data_offsets = [0, 24]; }), rule: /overlapping data_offsets/, tensor: 'b' },
  { name: 'zero-size tensor inside another', file: () => edited((h) => (h.z = { dtype: 'F32', shape: [0], data_offsets: [8, 8] })), rule: /tensor 'z': overlapping data_offsets: \[8, 8\] starts inside tensor 'w'/, tensor: 'z' },
  { name: 'gap between tensors', file: () => edited((h) => { entry(h, 'b').data_offsets = [26, 32]; entry(h, 'e').data_offsets = [32, 36]; }, Buffer.concat([baseData, Buffer.alloc(2)])), rule: /tensor 'b': gap of 2 bytes in data_offsets between tensor 'w' \(ends at 24\) and this tensor \(begins at 26\)/, tensor: 'b' },
  { name: 'data not starting at 0', file: () => edited((h) => { entry(h, 'w').data_offsets = [4, 28]; entry(h, 'b').data_offsets = [28, 34]; entry(h, 'e').data_offsets = [34, 38]; }, Buffer.concat([Buffer.alloc(4), baseData])), rule: /tensor 'w': data does not start at offset 0: the first tensor begins at 4/, tensor: 'w' },
  { name: 'truncated data', file: () => base.subarray(0, base.length - 3), rule: /truncated data: the tensors need 34 bytes after the header but the file holds 31/ },
  { name: 'data section missing entirely', file: () => assemble(baseJson, Buffer.alloc(0)), rule: /truncated data: the tensors need 34 bytes after the header but the file holds 0/ },
  { name: 'offsets beyond the data', file: () => edited((h) => (h.x = { dtype: 'U8', shape: [1000], data_offsets: [34, 1034] })), rule: /truncated data: the tensors need 1034 bytes/ },
  { name: 'trailing bytes', file: () => Buffer.concat([base, Buffer.alloc(5)]), rule: /5 trailing bytes after the last tensor \(data ends at 34, the file holds 39\)/ },
  { name: 'data with no tensors', file: () => assemble('{}', Buffer.alloc(1)), rule: /1 trailing bytes after the last tensor/ },
];

let counter = 0;
function writeCase(buf: Buffer): string {
  const p = path.join(dir, `case-${counter++}.safetensors`);
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
  expect(e.tensor).toBe(c.tensor);
}

describe('safetensors reader refuses what the format forbids', () => {
  it('the base file is valid (so each case breaks exactly one rule)', () => {
    const h = readHeaderSync(writeCase(base));
    expect(h.tensors.map((t) => t.name)).toEqual(['w', 'b', 'e']);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const file = writeCase(c.file());
    let syncError: unknown;
    try {
      readHeaderSync(file);
    } catch (e) {
      syncError = e;
    }
    expectRefused(syncError, file, c);
    let asyncError: unknown;
    await readHeader(file).catch((e) => (asyncError = e));
    expectRefused(asyncError, file, c);
    expect((asyncError as Error).message).toBe((syncError as Error).message);
    // The CLI refuses it too: exit code 1 and the same message, naming the file, on stderr.
    let stderr = '';
    const code = await main(['inspect', file], { out: () => undefined, err: (t) => (stderr += t) });
    expect(code).toBe(1);
    expect(stderr).toContain((syncError as Error).message);
  });
});

describe('safetensors reader: files it cannot open', () => {
  it('a missing file is an IoError naming it', async () => {
    const file = path.join(dir, 'missing.safetensors');
    expect(() => readHeaderSync(file)).toThrow(IoError);
    await expect(readHeader(file)).rejects.toMatchObject({ code: 'E_IO', file, message: expect.stringContaining(`${file}: cannot open`) });
  });

  it('a directory is an IoError', () => {
    expect(() => readHeaderSync(dir)).toThrow(/not a regular file/);
  });

  it('a non-string path is an invalid argument, not a crash', async () => {
    await expect(readHeader(42 as unknown as string)).rejects.toMatchObject({ code: 'E_INVALID_ARG' });
    expect(() => readHeaderSync('a\0b')).toThrow(/NUL byte/);
  });
});

describe('safetensors reader accepts valid edge cases', () => {
  function roundTrip(buf: Buffer) {
    return readHeaderSync(writeCase(buf));
  }

  it('reports sizes, offsets and the data start', () => {
    const file = writeCase(base);
    const h = readHeaderSync(file);
    expect(h.path).toBe(file);
    expect(h.fileSize).toBe(base.length);
    expect(h.headerSize).toBe(Buffer.byteLength(baseJson));
    expect(h.dataStart).toBe(8 + h.headerSize);
    expect(h.metadata).toBeNull();
    expect(h.tensors).toEqual([
      { name: 'w', dtype: 'F32', shape: [2, 3], begin: 0, end: 24 },
      { name: 'b', dtype: 'F16', shape: [3], begin: 24, end: 30 },
      { name: 'e', dtype: 'BF16', shape: [2], begin: 30, end: 34 },
    ]);
  });

  it('the async reader gives the same header', async () => {
    const file = writeCase(base);
    expect(await readHeader(file)).toEqual(readHeaderSync(file));
  });

  it('zero-size tensors, anywhere in the layout', () => {
    const h = roundTrip(
      edited((x) => {
        x.z0 = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
        x.z1 = { dtype: 'F16', shape: [3, 0, 5], data_offsets: [24, 24] };
        x.z2 = { dtype: 'I64', shape: [0], data_offsets: [34, 34] };
      }),
    );
    expect(h.tensors.map((t) => [t.name, t.begin, t.end])).toEqual([
      ['w', 0, 24], ['b', 24, 30], ['e', 30, 34], ['z0', 0, 0], ['z1', 24, 24], ['z2', 34, 34],
    ]);
  });

  it('a file of zero-size tensors only, and an empty header', () => {
    expect(roundTrip(assemble('{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}', Buffer.alloc(0))).tensors).toHaveLength(1);
    const empty = roundTrip(assemble('{}', Buffer.alloc(0)));
    expect(empty.tensors).toEqual([]);
    expect(empty.fileSize).toBe(10);
  });

  it('a dimension of 2^53-1 is fine when the tensor is empty', () => {
    const h = roundTrip(assemble('{"a":{"dtype":"F32","shape":[9007199254740991,0],"data_offsets":[0,0]}}', Buffer.alloc(0)));
    expect(h.tensors[0].shape).toEqual([9007199254740991, 0]);
  });

  it('scalar tensors (shape [])', () => {
    const p = path.join(dir, 'scalar.safetensors');
    writeSafetensors(p, [{ name: 's', dtype: 'F64', shape: [], data: [Math.PI] }, { name: 't', dtype: 'F32', shape: [1], data: [2] }]);
    const h = readHeaderSync(p);
    expect(h.tensors[0]).toEqual({ name: 's', dtype: 'F64', shape: [], begin: 0, end: 8 });
    expect(fs.readFileSync(p).readDoubleLE(h.dataStart + h.tensors[0].begin)).toBe(Math.PI);
  });

  it('metadata, including keys that are special in JavaScript', () => {
    // Built by JSON.parse: an object literal would turn '__proto__' into a prototype.
    const meta = JSON.parse('{"format":"pt","__proto__":"p","constructor":"c","é":"中文"}') as Record<string, string>;
    const h = roundTrip(writeBase(dir, meta));
    expect(h.metadata).not.toBeNull();
    const m = h.metadata as Record<string, string>;
    expect(Object.keys(m)).toEqual(['format', '__proto__', 'constructor', 'é']);
    expect(Object.getOwnPropertyDescriptor(m, '__proto__')?.value).toBe('p');
    expect(m.format).toBe('pt');
    expect(m['é']).toBe('中文');
    expect(roundTrip(edited((x) => (x.__metadata__ = {}))).metadata).toEqual({});
  });

  it('every float dtype, with offsets that point at the written values', () => {
    const dtypes: FloatDtype[] = ['F32', 'F16', 'BF16', 'F64'];
    const p = path.join(dir, 'floats.safetensors');
    const tensors = dtypes.map((dtype, i) => ({ name: `t_${dtype}`, dtype, shape: [i + 1, 3], data: Array.from({ length: 3 * (i + 1) }, (_, j) => j - 2.5) }));
    writeSafetensors(p, tensors);
    const bytes = fs.readFileSync(p);
    const h = readHeaderSync(p);
    for (const [i, t] of h.tensors.entries()) {
      expect(t.dtype).toBe(dtypes[i]);
      const values = decodeToFloat32(bytes.subarray(h.dataStart + t.begin, h.dataStart + t.end), dtypes[i]);
      expect(Array.from(values)).toEqual(tensors[i].data);
    }
  });

  it('every dtype the format defines', () => {
    const entries: Record<string, unknown> = {};
    let offset = 0;
    for (const [dtype, size] of Object.entries(DTYPE_SIZES)) {
      entries[`t_${dtype}`] = { dtype, shape: [2, 2], data_offsets: [offset, offset + 4 * size] };
      offset += 4 * size;
    }
    const h = roundTrip(assemble(JSON.stringify(entries), Buffer.alloc(offset)));
    expect(h.tensors.map((t) => t.dtype)).toEqual(Object.keys(DTYPE_SIZES));
    expect(Object.keys(DTYPE_SIZES)).toHaveLength(17);
  });

  it('large header padding (1 MB of spaces) and whitespace around the document', () => {
    const h = roundTrip(assemble(`\n\t ${baseJson}${' '.repeat(1 << 20)}\r\n`, baseData));
    expect(h.tensors).toHaveLength(3);
    expect(h.dataStart).toBe(8 + Buffer.byteLength(baseJson) + (1 << 20) + 5);
  });

  it('keeps header order even when the data is in another order', () => {
    const h = roundTrip(assemble(
      '{"late":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"early":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}',
      Buffer.alloc(6),
    ));
    expect(h.tensors.map((t) => t.name)).toEqual(['late', 'early']);
  });

  it('decodes string escapes and non-ASCII names', () => {
    const h = roundTrip(assemble(
      '{"caf\\u00e9.\\ud83d\\ude00.\\"q\\"\\\\\\/\\n":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"日本.😀":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
      Buffer.alloc(2),
    ));
    expect(h.tensors.map((t) => t.name)).toEqual(['café.😀."q"\\/\n', '日本.😀']);
  });

  it('numbers at the uint64 edge are read exactly or refused, never wrapped', () => {
    // 2^64-1 parses (then fails the layout), 2^64 overflows: the boundary of the parser.
    const at = path.join(dir, 'edge.safetensors');
    fs.writeFileSync(at, assemble('{"a":{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}}', Buffer.alloc(0)));
    expect(() => readHeaderSync(at)).toThrow(/data does not start at offset 0: the first tensor begins at 18446744073709551615/);
    fs.writeFileSync(at, assemble('{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,18446744073709551616]}}', Buffer.alloc(0)));
    expect(() => readHeaderSync(at)).toThrow(/overflows 64 bits/);
  });

  it('all errors are PhylogenyErrors with a code', () => {
    try {
      readHeaderSync(writeCase(Buffer.alloc(3)));
      throw new Error('not refused');
    } catch (e) {
      expect(e).toBeInstanceOf(PhylogenyError);
    }
  });
});
