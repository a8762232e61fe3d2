/**
 * Fuzz target: the native GGUF header reader, then the native dequantizer on every accepted
 * tensor of a dequantizable type (compared with the TypeScript reference). An accepted header
 * is checked against the format's rules here, independently of the reader. Three seeds are the
 * files of one split model (llama.cpp's gguf-split): a mutated file that still carries split
 * keys is put back among the other, unmutated files of that model and the model is read as
 * discovery reads it (lib/io/gguf-split.ts rules); an accepted split is checked here too.
 */
import * as fs from 'fs';
import * as path from 'path';
import { dequantizeGguf, readGgufHeaderSync, GgufHeader } from '../../lib/io/gguf';
import { splitFileName } from '../../lib/io/gguf-split';
import { readGgufModelSync } from '../../lib/io/gguf-tensors';
import { dequantizeRef } from '../../lib/io/gguf-quant-ref';
import { DequantType, ggmlBytes, ggmlType } from '../../lib/io/gguf-types';
import { encodeGguf, encodeGgufSplit, llamaMetadata } from '../../lib/io/gguf-writer';
import { FuzzTarget } from './target';

const x = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + k));

/** The files of the split seed model: metadata and token_embd in the first, q and k in the
 * second, v and the norm in the third (q, k, v names differ in one letter, so an edit can move a
 * name into another file). */
function splitSeed(): Buffer[] {
  return encodeGgufSplit({
    metadata: llamaMetadata({ blockCount: 1, embeddingLength: 32, feedForwardLength: 64, headCount: 2 }),
    tensors: [
      { name: 'token_embd.weight', type: 'F16', dims: [32, 3], data: x(96, 4) },
      { name: 'blk.0.attn_q.weight', type: 'Q4_0', dims: [32, 4], data: x(128, 5) },
      { name: 'blk.0.attn_k.weight', type: 'Q8_0', dims: [32, 4], data: x(128, 6) },
      { name: 'blk.0.attn_v.weight', type: 'Q4_K', dims: [256, 1], data: x(256, 7) },
      { name: 'output_norm.weight', type: 'F32', dims: [32], data: x(32, 8) },
    ],
  }, { files: 3 });
}
const SPLIT = splitSeed();

/** Where key `key`'s value type field is in a GGUF file's bytes, or -1. */
function keyAt(b: Buffer, key: string): number {
  const k = Buffer.from(key);
  for (let at = b.indexOf(k); at >= 8; at = b.indexOf(k, at + 1)) if (b.readBigUInt64LE(at - 8) === BigInt(k.length)) return at + k.length;
  return -1;
}

/**
 * Structure-aware edits of a split model's file: its split keys' values or types, its version,
 * or a q/k/v tensor renamed to another (maybe in another file). Other seeds get a byte flip.
 */
function mutateSplit(seed: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  if (!SPLIT.some((s) => s.equals(seed))) {
    if (b.length) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
    return b;
  }
  for (let n = 1 + Math.floor(rand() * 2); n > 0; n--) {
    const what = Math.floor(rand() * 5);
    if (what <= 1) {
      const key = pick(['split.no', 'split.count']);
      const at = keyAt(b, key);
      if (at >= 0) b.writeUInt16LE(pick([0, 1, 2, 3, 4, 0xffff]), at + 4);
    } else if (what === 2) {
      const at = keyAt(b, 'split.tensors.count');
      if (at >= 0) b.writeInt32LE(pick([-1, 0, 4, 5, 6, 0x7fffffff]), at + 4);
    } else if (what === 3) {
      // Another value type: one of the same size (a type rule) or not (the reader's bounds).
      const at = keyAt(b, pick(['split.no', 'split.count', 'split.tensors.count']));
      if (at >= 0) b.writeUInt32LE(pick([0, 1, 2, 3, 4, 5, 6, 10]), at);
    } else {
      const at = b.indexOf('blk.0.attn_');
      if (at >= 0) b.write(pick(['q', 'k', 'v']), at + 11, 'latin1');
      else b.writeUInt32LE(2, 4); // the first file has no q/k/v: GGUF version 2 instead of 3
    }
  }
  return b;
}

/** What the split cases came to (a split model accepted or refused), for the tests. */
export const splitOutcomes = { accepted: 0, refused: 0 };

function seeds(): Buffer[] {
  const small = encodeGguf({
    metadata: { ...llamaMetadata({ blockCount: 1, embeddingLength: 32, feedForwardLength: 64, headCount: 2 }),
      'tokenizer.ggml.tokens': { type: 'array', elementType: 'string', values: ['<s>', '</s>', 'a', 'b'] },
      'tokenizer.ggml.scores': { type: 'array', elementType: 'f32', values: [0, 0, -1, -2] },
      'test.nested': { type: 'array', elementType: 'array', values: [{ type: 'array', elementType: 'u8', values: [1, 2] }] },
      'test.u64': { type: 'u64', value: 7n }, 'test.bool': { type: 'bool', value: true } },
    tensors: [
      { name: 'token_embd.weight', type: 'F16', dims: [8, 4], data: x(32, 0) },
      { name: 'blk.0.attn_q.weight', type: 'Q8_0', dims: [32, 2], data: x(64, 1) },
      { name: 'blk.0.ffn_up.weight', type: 'Q4_K', dims: [256], data: x(256, 2) },
      { name: 'output_norm.weight', type: 'F32', dims: [8], data: x(8, 3) },
    ],
  });
  const types = encodeGguf({
    alignment: 64,
    tensors: (['BF16', 'Q4_0', 'Q4_1'] as const).map((type, k) => ({ name: `t${k}`, type, dims: [32], data: x(32, k) })),
  });
  const raw = encodeGguf({ tensors: ['Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q5_K', 'Q6_K', 'IQ2_XS'].map((type, k) => {
    const t = ggmlType(type)!;
    return { name: `r${k}`, type, dims: [t.blockElems], data: Uint8Array.from({ length: t.blockBytes }, (_, i) => (i * 31 + k) & 0xff) };
  }) });
  return [small, types, raw, ...SPLIT];
}

function fail(what: string): never {
  throw new Error(`accepted an invalid GGUF file: ${what}`);
}

function check(file: string, bytes: Buffer): void {
  const h = readGgufHeaderSync(file);
  if (h.version !== 2 && h.version !== 3) fail(`version ${h.version}`);
  if (h.alignment <= 0 || (h.alignment & (h.alignment - 1)) !== 0) fail(`alignment ${h.alignment}`);
  if (h.dataOffset % h.alignment !== 0) fail('data offset not aligned');
  const spans: [number, number][] = [];
  const names = new Set<string>();
  for (const t of h.tensors) {
    const type = ggmlType(t.type);
    if (!type) fail(`unknown type ${t.type}`);
    if (names.has(t.name)) fail(`duplicate name ${t.name}`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > 4 || t.dims.some((d) => !(d >= 1))) fail(`dims ${t.dims}`);
    if (t.shape.join() !== [...t.dims].reverse().join()) fail('shape is not dims reversed');
    if (t.dims.reduce((a, b) => a * b, 1) !== t.elements) fail('element count');
    if (t.dims[0] % type.blockElems !== 0 || t.bytes !== ggmlBytes(type, t.elements)) fail(`byte size of ${t.name}`);
    if (t.offset < h.dataOffset || (t.offset - h.dataOffset) % h.alignment !== 0 || t.offset + t.bytes > bytes.length) fail(`placement of ${t.name}`);
    spans.push([t.offset, t.offset + t.bytes]);
    if (type.dequantizable && t.bytes <= 1 << 20) {
      const b = bytes.subarray(t.offset, t.offset + t.bytes);
      const y = dequantizeGguf(t.type, b, t.elements), r = dequantizeRef(t.type as DequantType, b, t.elements);
      for (let i = 0; i < y.length; i++)
        if (!(Object.is(y[i], r[i]) || (Number.isNaN(y[i]) && Number.isNaN(r[i])))) fail(`${t.name}: dequantized element ${i} differs from the reference`);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i - 1][1] > spans[i][0]) fail('overlapping tensors');
  if (Object.keys(h.metadata).some((k) => k.startsWith('split.'))) checkSplit(file, bytes, h);
}

/**
 * The mutated file among the split seed's other files, read as one model: refused (the
 * reader's error is thrown) or accepted and then held to the split rules here. It goes where
 * its split.no says, but for one byte sum (mod 5) of five the next place (so a changed file also
 * meets a sibling with its own split.no), and first when its split.no is no place of the seed.
 */
function checkSplit(file: string, bytes: Buffer, h: GgufHeader): void {
  const no = h.metadata['split.no'];
  const own = typeof no === 'number' && Number.isInteger(no) && no >= 0 && no < SPLIT.length ? no : 0;
  let sum = 0;
  for (const byte of bytes) sum = (sum + byte) % 5;
  const slot = sum === 4 && !bytes.equals(SPLIT[own]) ? (own + 1) % SPLIT.length : own;
  const dir = path.join(path.dirname(file), 'split');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  const files = SPLIT.map((b, i) => {
    const f = path.join(dir, splitFileName('fz', i + 1, SPLIT.length));
    fs.writeFileSync(f, i === slot ? bytes : b);
    return f;
  });
  let list;
  try {
    list = readGgufModelSync(files);
  } catch (e) {
    splitOutcomes.refused++;
    throw e;
  }
  splitOutcomes.accepted++;
  const headers = files.map((f) => readGgufHeaderSync(f));
  const declared = headers[0].metadata['split.tensors.count'];
  let total = 0;
  const where = new Map<string, string>();
  headers.forEach((x, i) => {
    if (x.metadata['split.count'] !== SPLIT.length || x.metadataTypes['split.count'] !== 'u16') fail(`split: split.count of file ${i + 1}`);
    if (x.metadata['split.no'] !== i || x.metadataTypes['split.no'] !== 'u16') fail(`split: split.no of file ${i + 1}`);
    if (x.version !== headers[0].version) fail('split: versions differ');
    for (const t of x.tensors) {
      if (where.has(t.name)) fail(`split: tensor ${t.name} in two files`);
      where.set(t.name, x.path);
      total++;
    }
  });
  if (declared !== total || headers[0].metadataTypes['split.tensors.count'] !== 'i32') fail(`split: split.tensors.count ${String(declared)} for ${total} tensors`);
  if (list.tensors.length !== total) fail(`split: ${list.tensors.length} tensors listed of ${total}`);
  const byFile = new Map<string, number>();
  for (const t of list.tensors) byFile.set(t.file, (byFile.get(t.file) ?? 0) + 1);
  headers.forEach((x) => {
    if ((byFile.get(x.path) ?? 0) !== x.tensors.length) fail(`split: tensors listed for ${x.path}`);
  });
}

export const ggufTarget: FuzzTarget = { name: 'gguf', seeds, check, mutate: mutateSplit };
