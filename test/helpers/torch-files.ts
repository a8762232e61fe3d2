/**
 * Hand-built torch checkpoints for the malformed-file suite and the fuzz test: pickle bytes
 * opcode by opcode, and zips of chosen entries (through the writer's stored-zip writer).
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeStoredZip } from '../../lib/io/torch-writer';

export type Part = number | number[] | Buffer | { text: string };

/** Concatenates opcodes (numbers), raw bytes and text. */
export function pkl(...parts: Part[]): Buffer {
  return Buffer.concat(
    parts.map((p) =>
      typeof p === 'number' ? Buffer.from([p]) : Array.isArray(p) ? Buffer.from(p) : Buffer.isBuffer(p) ? p : Buffer.from(p.text, 'utf8'),
    ),
  );
}

export const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, EMPTY_DICT: 0x7d, EMPTY_LIST: 0x5d, EMPTY_TUPLE: 0x29, NONE: 0x4e,
  NEWFALSE: 0x89, BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, LONG4: 0x8b, BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  SETITEM: 0x73, SETITEMS: 0x75, APPEND: 0x61, BINPUT: 0x71, LONG_BINPUT: 0x72, BINGET: 0x68, LONG_BINGET: 0x6a,
  MEMOIZE: 0x94, GLOBAL: 0x63, STACK_GLOBAL: 0x93, REDUCE: 0x52, BUILD: 0x62, BINPERSID: 0x51, INST: 0x69,
  OBJ: 0x6f, NEWOBJ: 0x81, FRAME: 0x95,
} as const;

export function uni(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const h = Buffer.alloc(5);
  h[0] = OP.BINUNICODE;
  h.writeUInt32LE(b.length, 1);
  return Buffer.concat([h, b]);
}

export function glob(module: string, name: string): Buffer {
  return Buffer.from(`c${module}\n${name}\n`, 'utf8');
}

export function int(v: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = OP.BININT;
  b.writeInt32LE(v, 1);
  return b;
}

function intTuple(vs: number[]): Buffer {
  return pkl(OP.MARK, ...vs.map(int), OP.TUPLE);
}

export interface TensorSpec {
  name?: string;
  storageClass?: string;
  key?: string;
  numel?: number;
  offset?: number;
  size?: number[];
  stride?: number[];
}

/** The pickle bytes (no PROTO/STOP) that put `name: tensor` into the dict below them. */
export function tensorItem(t: TensorSpec = {}): Buffer {
  return pkl(
    uni(t.name ?? 'w'),
    glob('torch._utils', '_rebuild_tensor_v2'),
    OP.MARK,
    OP.MARK, uni('storage'), glob('torch', t.storageClass ?? 'FloatStorage'), uni(t.key ?? '0'), uni('cpu'), int(t.numel ?? 4), OP.TUPLE,
    OP.BINPERSID,
    int(t.offset ?? 0),
    intTuple(t.size ?? [4]),
    intTuple(t.stride ?? [1]),
    OP.NEWFALSE,
    glob('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE,
    OP.TUPLE,
    OP.REDUCE,
  );
}

/** A whole state-dict pickle: OrderedDict of the given items. */
export function stateDict(...items: Buffer[]): Buffer {
  return pkl(OP.PROTO, 2, glob('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK, ...items, OP.SETITEMS, OP.STOP);
}

/** Writes a checkpoint of `pickle` and storages (key -> bytes) to dir/name; returns its path. */
export function checkpoint(dir: string, name: string, pickle: Buffer, storages: Record<string, Buffer> = { '0': Buffer.alloc(16) }, opts: { zip64?: boolean; extra?: { name: string; data: Buffer }[] } = {}): string {
  const file = path.join(dir, name);
  fs.mkdirSync(dir, { recursive: true });
  writeStoredZip(
    file,
    [
      { name: 'archive/data.pkl', data: pickle },
      ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
      ...(opts.extra ?? []),
      { name: 'archive/version', data: Buffer.from('3\n') },
    ],
    opts.zip64 ?? false,
  );
  return file;
}

/** Zip record positions in a file written without a comment (as the writer writes). */
export function zipLayout(buf: Buffer): { eocd: number; cd: number; central: number[]; local: number[] } {
  const eocd = buf.length - 22;
  const cd = buf.readUInt32LE(eocd + 16);
  const n = buf.readUInt16LE(eocd + 10);
  const central: number[] = [];
  const local: number[] = [];
  let p = cd;
  for (let i = 0; i < n; i++) {
    central.push(p);
    local.push(buf.readUInt32LE(p + 42));
    p += 46 + buf.readUInt16LE(p + 28) + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return { eocd, cd, central, local };
}
