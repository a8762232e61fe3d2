/**
 * Fuzz target for the PyTorch checkpoint reader (lib/io/torch-checkpoint.ts): valid seed
 * checkpoints, a structure-aware mutator (zip records, data.pkl opcodes, whole-entry edits
 * re-zipped), and `parse`, which must either return a tensor list that really lies inside
 * the file or throw a PhylogenyError. Used by the seeded fuzz test and by `npm run fuzz`.
 */
import * as fs from 'fs';
import { PhylogenyError } from '../../lib/errors';
import { DTYPE_SIZES } from '../../lib/io/dtype';
import { readTorchCheckpointSync, TorchCheckpoint } from '../../lib/io/torch-checkpoint';
import { storedZip } from '../../lib/io/torch-writer';
import { FuzzTarget } from './target';

export const name = 'torch-zip';

function u(...bytes: number[]): Buffer {
  return Buffer.from(bytes);
}
function uni(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const h = Buffer.alloc(5);
  h[0] = 0x58;
  h.writeUInt32LE(b.length, 1);
  return Buffer.concat([h, b]);
}
function glob(m: string, n: string): Buffer {
  return Buffer.from(`c${m}\n${n}\n`);
}
function binint(v: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = 0x4a;
  b.writeInt32LE(v, 1);
  return b;
}

/** A torch-style pickle with memo puts and gets (as torch.save writes), storage sharing,
 * a storage offset, a nested state dict and a parameter. */
function richPickle(): Buffer {
  const MARK = 0x28;
  const tensor = (key: string, cls: string, numel: number, offset: number, size: number[], stride: number[], memo: number): Buffer =>
    Buffer.concat([
      glob('torch._utils', '_rebuild_tensor_v2'), u(0x71, memo),
      u(MARK, MARK), uni('storage'), glob('torch', cls), uni(key), uni('cpu'), binint(numel), u(0x74, 0x51),
      binint(offset), u(MARK), ...size.map(binint), u(0x74), u(MARK), ...stride.map(binint), u(0x74),
      u(0x89), glob('collections', 'OrderedDict'), u(0x29, 0x52, 0x74, 0x52),
    ]);
  return Buffer.concat([
    u(0x80, 2, 0x7d, 0x71, 0), uni('state_dict'),
    glob('collections', 'OrderedDict'), u(0x71, 1, 0x29, 0x52, 0x71, 2, MARK),
    uni('a.weight'), tensor('0', 'FloatStorage', 12, 0, [3, 4], [4, 1], 3),
    uni('a.slice'), tensor('0', 'FloatStorage', 12, 4, [2, 3], [3, 1], 4),
    uni('a.t'), tensor('0', 'FloatStorage', 12, 0, [4, 3], [1, 4], 5),
    uni('b.half'), tensor('1', 'HalfStorage', 6, 0, [6], [1], 6),
    uni('b.count'), tensor('2', 'LongStorage', 1, 0, [], [], 7),
    uni('p'), glob('torch._utils', '_rebuild_parameter'), u(MARK), tensor('3', 'BFloat16Storage', 4, 0, [2, 2], [2, 1], 8),
    u(0x88), glob('collections', 'OrderedDict'), u(0x29, 0x52, 0x74, 0x52),
    u(0x75), u(0x73), // SETITEMS into the OrderedDict, SETITEM it under 'state_dict'
    uni('epoch'), binint(3), u(0x73),
    u(0x2e),
  ]);
}

export function seeds(): Buffer[] {
  const richEntries = [
    { name: 'ckpt/data.pkl', data: richPickle() },
    { name: 'ckpt/byteorder', data: Buffer.from('little') },
    { name: 'ckpt/data/0', data: Buffer.alloc(48, 1) },
    { name: 'ckpt/data/1', data: Buffer.alloc(12, 2) },
    { name: 'ckpt/data/2', data: Buffer.alloc(8, 3) },
    { name: 'ckpt/data/3', data: Buffer.alloc(8, 4) },
    { name: 'ckpt/version', data: Buffer.from('3\n') },
  ];
  return [storedZip(richEntries), storedZip(richEntries, true)];
}

type Rand = () => number;

const OPCODES = [0x28, 0x29, 0x2e, 0x4a, 0x4b, 0x4d, 0x4e, 0x51, 0x52, 0x58, 0x5d, 0x61, 0x62, 0x63, 0x65, 0x68, 0x6a, 0x71, 0x72,
  0x73, 0x74, 0x75, 0x7d, 0x80, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x8d, 0x93, 0x94, 0x95, 0x69, 0x6f, 0x81, 0x8b, 0x00, 0xff];
const HOSTILE32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 22, 30, 46, 64];

/** Entries of a plain (non-ZIP64) stored zip, in order, or null if it cannot be walked. */
function entriesOf(buf: Buffer): { name: string; data: Buffer }[] | null {
  try {
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) return null;
    const n = buf.readUInt16LE(eocd + 10);
    let p = buf.readUInt32LE(eocd + 16);
    const out: { name: string; data: Buffer }[] = [];
    for (let i = 0; i < n; i++) {
      const nameLen = buf.readUInt16LE(p + 28);
      const size = buf.readUInt32LE(p + 24);
      const local = buf.readUInt32LE(p + 42);
      const at = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      if (at + size > buf.length) return null;
      out.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), data: buf.subarray(at, at + size) });
      p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    }
    return out;
  } catch {
    return null;
  }
}

function mutatePickle(p: Buffer, rand: Rand): Buffer {
  const int = (n: number): number => Math.floor(rand() * n);
  const at = int(p.length + 1);
  switch (int(5)) {
    case 0: // an opcode replaced
      return Buffer.concat([p.subarray(0, at), u(OPCODES[int(OPCODES.length)]), p.subarray(at + 1)]);
    case 1: // an opcode inserted
      return Buffer.concat([p.subarray(0, at), u(OPCODES[int(OPCODES.length)]), p.subarray(at)]);
    case 2: // a range deleted
      return Buffer.concat([p.subarray(0, at), p.subarray(at + 1 + int(24))]);
    case 3: // a range duplicated
      return Buffer.concat([p.subarray(0, at), p.subarray(at, at + 1 + int(48)), p.subarray(at)]);
    default: { // a 4-byte argument set to a hostile value
      const q = Buffer.from(p);
      if (at + 4 <= q.length) q.writeUInt32LE(HOSTILE32[int(HOSTILE32.length)], at);
      return q;
    }
  }
}

/** One seeded mutation: byte-level edits anywhere, field edits in the zip records, or an
 * entry-level edit (data.pkl opcodes, entry names, sizes) re-zipped into a consistent zip. */
export function mutate(seed: Buffer, rand: Rand): Buffer {
  const int = (n: number): number => Math.floor(rand() * n);
  const file = Buffer.from(seed);
  if (file.length === 0) return u(int(256));
  const tail = Math.max(0, file.length - 600); // the central directory and end records
  switch (int(9)) {
    case 0: { // bit flips, mostly in the directory and end records
      for (let i = 0, n = 1 + int(4); i < n; i++) {
        const at = int(3) ? tail + int(file.length - tail) : int(file.length);
        file[at] ^= 1 << int(8);
      }
      return file;
    }
    case 1: { // a 2/4/8-byte field in the directory set to a hostile value
      const at = tail + int(Math.max(1, file.length - tail - 8));
      const w = [2, 4, 8][int(3)];
      if (at + w > file.length) return file;
      if (w === 2) file.writeUInt16LE([0, 1, 0xffff, 0xfffe][int(4)], at);
      else if (w === 4) file.writeUInt32LE(HOSTILE32[int(HOSTILE32.length)], at);
      else file.writeBigUInt64LE([0n, 1n, 1n << 32n, 1n << 53n, (1n << 64n) - 1n, BigInt(file.length)][int(6)], at);
      return file;
    }
    case 2:
      return file.subarray(0, int(file.length));
    case 3:
      return Buffer.concat([file, Buffer.alloc(1 + int(64), int(256))]);
    case 4:
    case 5:
    case 6: {
      const entries = entriesOf(file);
      if (!entries) return mutate(seed, rand);
      const i = entries.findIndex((e) => e.name.endsWith('/data.pkl'));
      if (i >= 0) entries[i] = { ...entries[i], data: mutatePickle(entries[i].data, rand) };
      return storedZip(entries);
    }
    case 7: { // entry-level edits: drop, duplicate, rename, resize a storage, big-endian
      const entries = entriesOf(file);
      if (!entries || !entries.length) return mutate(seed, rand);
      const k = int(entries.length);
      switch (int(5)) {
        case 0: entries.splice(k, 1); break;
        case 1: entries.push(entries[k]); break;
        case 2: entries[k] = { ...entries[k], name: ['x/data.pkl', 'ckpt/data/9', '', 'ckpt/data.pkl', 'ckpt/byteorder'][int(5)] }; break;
        case 3: entries[k] = { ...entries[k], data: entries[k].data.subarray(0, int(entries[k].data.length + 1)) }; break;
        default: entries.push({ name: 'ckpt/byteorder', data: Buffer.from(['big', 'little', ''][int(3)]) });
      }
      return storedZip(entries, rand() < 0.3);
    }
    default: // several at once
      return mutate(mutate(seed, rand), rand);
  }
}

/** What an accepted checkpoint must satisfy, checked independently of the reader. */
export function checkAccepted(c: TorchCheckpoint, fileLength: number): void {
  for (const t of c.tensors) {
    const size = DTYPE_SIZES[t.dtype];
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const ok = size !== undefined && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
      t.byteLength === numel * size && Number.isSafeInteger(t.offset) && t.offset >= 0 && t.offset + t.byteLength <= fileLength;
    if (!ok) throw new Error(`accepted a tensor that does not fit the file: ${JSON.stringify(t)}`);
  }
}

/** Parses one file: a PhylogenyError is a clean refusal; anything else is a finding. */
export function parse(path: string): 'accepted' | 'refused' {
  let c: TorchCheckpoint;
  try {
    c = readTorchCheckpointSync(path);
  } catch (e) {
    if (e instanceof PhylogenyError) return 'refused';
    throw e;
  }
  checkAccepted(c, fs.statSync(path).size);
  return 'accepted';
}

/** The `npm run fuzz` entry: hand-built seeds, both mutators, the same acceptance check. */
export const torchZipTarget: FuzzTarget = {
  name,
  seeds: () => seeds(),
  check(path, bytes) {
    checkAccepted(readTorchCheckpointSync(path), bytes.length);
  },
  mutate,
};
