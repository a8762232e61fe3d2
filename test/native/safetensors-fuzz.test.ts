/**
 * Seeded fuzzing of the safetensors reader: random mutations of valid files (bit flips,
 * truncations, JSON edits, huge numbers, deep nesting, invalid UTF-8, broken length
 * prefixes). Every file must either be refused with E_FORMAT naming it, or accepted with a
 * header that really obeys the format (checked here independently), and the process must
 * survive. The seed is fixed, so a failure reproduces.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DTYPE_SIZES } from '../../lib/io/dtype';
import { readHeader, readHeaderSync, SafetensorsHeader } from '../../lib/io/safetensors';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { PhylogenyError } from '../../lib/errors';
import { assemble, rng, splitFile, tmpDir, writeBase } from './safetensors-helpers';

const SYNC_CASES = 1200;
const ASYNC_CASES = 300;

const dir = tmpDir('np-st-fuzz-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function seedFiles(): Buffer[] {
  const p = path.join(dir, 'seed.safetensors');
  writeSafetensors(p, [
    { name: 'model.embed.weight', dtype: 'BF16', shape: [4, 3], data: Array.from({ length: 12 }, (_, i) => i / 7) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [3], data: [1, 1, 1] },
    { name: 'empty', dtype: 'F16', shape: [0, 5], data: [] },
    { name: 'scalar', dtype: 'F64', shape: [], data: [0.25] },
  ], { format: 'pt', note: 'fuzz seed' });
  const many = fs.readFileSync(p);
  const entries: Record<string, unknown> = {};
  let offset = 0;
  for (const [dtype, size] of Object.entries(DTYPE_SIZES)) {
    entries[`t.${dtype}`] = { dtype, shape: [3], data_offsets: [offset, offset + 3 * size] };
    offset += 3 * size;
  }
  const dtypes = assemble(JSON.stringify(entries) + '    ', Buffer.alloc(offset, 7));
  return [writeBase(dir), writeBase(dir, { k: 'v' }), many, dtypes, assemble('{}', Buffer.alloc(0))];
}
const seeds = seedFiles();

const random = rng(0x5eed2025);
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)];

const HOSTILE_VALUES = [
  '-1', '0', '-0', '1.5', '1e3', '1e400', '-1e-400', '18446744073709551615', '18446744073709551616',
  '9007199254740993', '99999999999999999999999999999999', '"F32"', '"BF16"', '"X"', '""', 'null', 'true', 'false',
  '[]', '{}', '[0]', '[0,0]', '[0,1,2]', '[-1,4]', '[1.0,2]', '[18446744073709551615,18446744073709551615]',
  '"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '{"dtype":"F32"}', '[[[[[[]]]]]]',
];
const INVALID_UTF8 = [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf5], [0xff], [0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xc3]];

function randomValue(): string {
  switch (int(5)) {
    case 0: {
      const n = 1 + int(int(2) ? 200 : 100000); // up to 100k levels: must not exhaust the stack
      return '['.repeat(n) + ']'.repeat(n);
    }
    case 1:
      return `[${Array.from({ length: int(6) }, () => pick(['0', '1', '2', '3', '4294967296', '-2', '1.5'])).join(',')}]`;
    case 2:
      return `[${int(64)},${int(64)}]`;
    case 3:
      return `"${pick(Object.keys(DTYPE_SIZES).concat(['F31', 'f32', 'Q4']))}"`;
    default:
      return pick(HOSTILE_VALUES);
  }
}

/** Re-serialises a header with one value replaced by raw JSON text (huge numbers, nesting). */
function jsonEdit(json: string): string {
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const names = Object.keys(h);
  const PLACEHOLDER = '"@@fuzz@@"';
  if (names.length === 0 || int(6) === 0) {
    h[pick(['x', '__metadata__', 'a.b', ''])] = '@@fuzz@@';
  } else {
    const name = pick(names);
    const e = h[name];
    if (typeof e === 'object' && e !== null && !Array.isArray(e) && int(4) !== 0) {
      const entry = e as Record<string, unknown>;
      const field = pick([...Object.keys(entry), 'extra']);
      if (int(5) === 0) delete entry[field];
      else entry[field] = '@@fuzz@@';
    } else {
      h[name] = '@@fuzz@@';
    }
  }
  let text: string;
  try {
    text = JSON.stringify(h); // deep nesting from an earlier edit can overflow V8's stack here
  } catch {
    return json;
  }
  return text.replace(PLACEHOLDER, randomValue());
}

function textEdit(json: string): string {
  const names = [...json.matchAll(/"([^"\\]*)":/g)].map((m) => m[0]);
  switch (int(5)) {
    case 0: { // rename a key to another one: duplicate names and fields
      if (names.length < 2) return json;
      return json.replace(pick(names), pick(names));
    }
    case 1: { // delete a range
      const a = int(json.length + 1);
      return json.slice(0, a) + json.slice(a + 1 + int(16));
    }
    case 2: { // duplicate a range
      const a = int(json.length + 1);
      return json.slice(0, a) + json.slice(a, a + 1 + int(32)) + json.slice(a);
    }
    case 3: // swap two digits' worth of offsets
      return json.replace(/\d+/, () => String(int(100)));
    default:
      return json.replace(/\[(\d+),(\d+)\]/, (_m, a, b) => `[${b},${a}]`);
  }
}

/** Moves one tensor's data (size kept) or swaps two tensors' places: overlaps and gaps. */
function layoutEdit(json: string): string {
  let h: Record<string, { data_offsets?: number[] }>;
  try {
    h = JSON.parse(json);
  } catch {
    return json;
  }
  const names = Object.keys(h).filter((k) => k !== '__metadata__' && Array.isArray(h[k]?.data_offsets));
  if (!names.length) return json;
  const a = h[pick(names)];
  const [begin, end] = a.data_offsets as number[];
  if (int(2)) {
    const shift = pick([-8, -4, -2, -1, 1, 2, 4, 8]);
    if (begin + shift >= 0) a.data_offsets = [begin + shift, end + shift];
  } else {
    const b = h[pick(names)];
    [a.data_offsets, b.data_offsets] = [b.data_offsets, a.data_offsets];
  }
  return JSON.stringify(h);
}

function utf8Inject(header: Buffer): Buffer {
  const at = int(header.length + 1);
  return Buffer.concat([header.subarray(0, at), Buffer.from(pick(INVALID_UTF8)), header.subarray(at)]);
}

function mutate(seed: Buffer): Buffer {
  const file = Buffer.from(seed);
  // After an earlier mutation the prefix may not fit the file: then only byte-level edits.
  const parsable = file.length >= 8 && file.readBigUInt64LE(0) <= BigInt(file.length - 8);
  const { json, data } = parsable ? splitFile(file) : { json: '', data: Buffer.alloc(0) };
  const headerEnd = parsable ? 8 + Buffer.byteLength(json) : file.length;
  if (file.length === 0) return Buffer.from([int(256)]);
  switch (parsable ? int(11) : int(5)) {
    case 0: { // bit flips, mostly in the header
      const flips = 1 + int(4);
      for (let i = 0; i < flips; i++) {
        const at = int(3) ? int(headerEnd) : int(file.length);
        if (at < file.length) file[at] ^= 1 << int(8);
      }
      return file;
    }
    case 1: { // random bytes in the header
      for (let i = 0, n = 1 + int(3); i < n; i++) file[8 + int(headerEnd - 8)] = int(256);
      return file;
    }
    case 2: // truncation
      return file.subarray(0, int(file.length));
    case 3: // extension
      return Buffer.concat([file, Buffer.alloc(1 + int(64), int(256))]);
    case 4: { // length prefix
      const n = BigInt(Buffer.byteLength(json));
      const choices = [0n, 1n, n - 1n, n + 1n, BigInt(file.length), 1n << 32n, 1n << 63n, (1n << 64n) - 1n, 100000000n, 100000001n,
        BigInt(int(2 ** 30)) * BigInt(int(2 ** 30) + 1)];
      const v = pick(choices);
      file.writeBigUInt64LE(v < 0n ? 0n : v & ((1n << 64n) - 1n), 0);
      return file;
    }
    case 5:
    case 6:
      return assemble(jsonEdit(json), data);
    case 7:
      return assemble(textEdit(json), data);
    case 8:
      return assemble(utf8Inject(Buffer.from(json)), data);
    case 9:
      return assemble(layoutEdit(json), data);
    default: // several at once
      return mutate(mutate(seed));
  }
}

/** What an accepted header must satisfy, checked without the native code. */
function assertObeysFormat(h: SafetensorsHeader, fileLength: number): void {
  expect(h.fileSize).toBe(fileLength);
  expect(h.dataStart).toBe(8 + h.headerSize);
  expect(new Set(h.tensors.map((t) => t.name)).size).toBe(h.tensors.length);
  const sorted = [...h.tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const t of sorted) {
    expect(DTYPE_SIZES[t.dtype]).toBeDefined();
    expect(t.begin).toBe(expected);
    expect(t.end - t.begin).toBe(t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZES[t.dtype]);
    expected = t.end;
  }
  expect(expected).toBe(fileLength - h.dataStart);
  if (h.metadata) for (const v of Object.values(h.metadata)) expect(typeof v).toBe('string');
}

/** The broken rule of a refusal, without file, tensor, numbers or quoted names. */
function ruleOf(message: string, file: string): string {
  return message
    .replace(`${file}: `, '')
    .replace(/^tensor '(?:[^'\\]|\\.)*?': /, '')
    .replace(/'[^']*'|"[^"]*"|\d+/g, '#')
    .split(/[(:]/)[0]
    .trim();
}

function assertRefusal(err: unknown, file: string): void {
  expect(err).toBeInstanceOf(PhylogenyError);
  const e = err as PhylogenyError;
  expect(e.code).toMatch(/^E_/);
  // Every mutation is a format problem: an internal or memory error would be a reader bug.
  expect(e.code).toBe('E_FORMAT');
  expect(e.message.startsWith(`${file}: `)).toBe(true);
  expect(e.file).toBe(file);
}

describe('safetensors reader under random mutations', () => {
  it(`survives ${SYNC_CASES} mutated files (sync API)`, () => {
    const outcomes = { accepted: 0, refused: 0 };
    const rules = new Map<string, number>();
    for (let i = 0; i < SYNC_CASES; i++) {
      const buf = mutate(pick(seeds));
      const file = path.join(dir, `sync-${i % 8}.safetensors`);
      fs.writeFileSync(file, buf);
      let header: SafetensorsHeader | undefined;
      try {
        header = readHeaderSync(file);
      } catch (e) {
        assertRefusal(e, file);
        outcomes.refused++;
        const rule = ruleOf((e as Error).message, file);
        rules.set(rule, (rules.get(rule) ?? 0) + 1);
        continue;
      }
      assertObeysFormat(header, buf.length);
      outcomes.accepted++;
    }
    // Both outcomes must be common, or the mutations are not exercising the reader.
    expect(outcomes.refused).toBeGreaterThan(SYNC_CASES / 2);
    expect(outcomes.accepted).toBeGreaterThan(20);
    if (process.env.FUZZ_STATS) console.log(outcomes, [...rules].sort((a, b) => b[1] - a[1]));
    expect(rules.size).toBeGreaterThanOrEqual(20);
  });

  it(`survives ${ASYNC_CASES} mutated files read concurrently (async API)`, async () => {
    const outcomes = { accepted: 0, refused: 0 };
    const batch = 16;
    for (let start = 0; start < ASYNC_CASES; start += batch) {
      const jobs = [];
      for (let i = start; i < Math.min(ASYNC_CASES, start + batch); i++) {
        const buf = mutate(pick(seeds));
        const file = path.join(dir, `async-${i - start}.safetensors`);
        fs.writeFileSync(file, buf);
        jobs.push(
          readHeader(file).then(
            (h) => {
              assertObeysFormat(h, buf.length);
              outcomes.accepted++;
            },
            (e) => {
              assertRefusal(e, file);
              outcomes.refused++;
            },
          ),
        );
      }
      await Promise.all(jobs);
    }
    expect(outcomes.accepted + outcomes.refused).toBe(ASYNC_CASES);
    expect(outcomes.refused).toBeGreaterThan(ASYNC_CASES / 2);
  });

  it('survives extreme inputs: 100k-level nesting, 1 MB strings, megabytes of invalid UTF-8', () => {
    const inputs = [
      assemble('['.repeat(1_000_000), Buffer.alloc(0)),
      assemble('{"a":' + '{"b":'.repeat(200_000), Buffer.alloc(0)),
      assemble(`{"${'x'.repeat(1 << 20)}":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, Buffer.alloc(1)),
      assemble(Buffer.alloc(1 << 20, 0xff), Buffer.alloc(0)),
      assemble(`{"a":{"dtype":"U8","shape":[${'1,'.repeat(100_000)}1],"data_offsets":[0,1]}}`, Buffer.alloc(1)),
    ];
    const outcomes: string[] = [];
    for (const [i, buf] of inputs.entries()) {
      const file = path.join(dir, `extreme-${i}.safetensors`);
      fs.writeFileSync(file, buf);
      try {
        const h = readHeaderSync(file);
        assertObeysFormat(h, buf.length);
        outcomes.push('ok');
      } catch (e) {
        assertRefusal(e, file);
        outcomes.push((e as Error).message.replace(`${file}: `, '').slice(0, 80));
      }
    }
    expect(outcomes[0]).toMatch(/nesting deeper than 64/);
    expect(outcomes[1]).toMatch(/nesting deeper than 64/);
    expect(outcomes[2]).toBe('ok');
    expect(outcomes[3]).toMatch(/not valid UTF-8/);
    expect(outcomes[4]).toBe('ok'); // 100,001 dimensions of 1: odd but valid
  });
});
