/**
 * Writes `torch.save`-compatible zip checkpoints of a state dict (float tensors, an
 * OrderedDict, pickle protocol 2, stored entries with torch's 64-byte data alignment), so
 * tests and zoos can produce PyTorch .bin files without Python. `torch.load` reads them.
 * `zip64: true` writes the ZIP64 records torch itself writes only for archives over 4 GiB.
 */
import * as fs from 'fs';
import { InvalidArgumentError } from '../errors';
import { encodeFloats, FloatDtype } from './dtype';
import type { TensorData } from './safetensors-writer';
import { crc32 } from './crc32';

const STORAGE_CLASS: Record<string, string> = { F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', F64: 'DoubleStorage' };
/** torch aligns each entry's data to 64 bytes (padding in the local header's extra field). */
const ALIGN = 64;


/** Pickle opcodes for the handful of values a state dict needs (protocol 2, no memo). */
class PickleWriter {
  private parts: Buffer[] = [];
  private op(...bytes: number[]): void {
    this.parts.push(Buffer.from(bytes));
  }
  proto(): void {
    this.op(0x80, 2);
  }
  global(module: string, name: string): void {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'utf8'));
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58; // BINUNICODE
    h.writeUInt32LE(b.length, 1);
    this.parts.push(h, b);
  }
  int(v: number): void {
    if (v >= 0 && v < 256) this.op(0x4b, v);
    else if (v >= -0x80000000 && v <= 0x7fffffff) {
      const h = Buffer.alloc(5);
      h[0] = 0x4a;
      h.writeInt32LE(v, 1);
      this.parts.push(h);
    } else {
      const h = Buffer.alloc(10);
      h[0] = 0x8a; // LONG1, 8 bytes two's complement
      h[1] = 8;
      h.writeBigInt64LE(BigInt(v), 2);
      this.parts.push(h);
    }
  }
  intTuple(vs: number[]): void {
    this.mark();
    for (const v of vs) this.int(v);
    this.op(0x74); // TUPLE
  }
  mark(): void {
    this.op(0x28);
  }
  tuple(): void {
    this.op(0x74);
  }
  emptyTuple(): void {
    this.op(0x29);
  }
  reduce(): void {
    this.op(0x52);
  }
  persid(): void {
    this.op(0x51);
  }
  newFalse(): void {
    this.op(0x89);
  }
  setItems(): void {
    this.op(0x75);
  }
  stop(): void {
    this.op(0x2e);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function stateDictPickle(tensors: TensorData[]): Buffer {
  const p = new PickleWriter();
  p.proto();
  p.global('collections', 'OrderedDict');
  p.emptyTuple();
  p.reduce();
  p.mark();
  tensors.forEach((t, i) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(t.name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.mark(); // args
    p.mark(); // persistent id
    p.str('storage');
    p.global('torch', STORAGE_CLASS[t.dtype]);
    p.str(String(i));
    p.str('cpu');
    p.int(numel);
    p.tuple();
    p.persid();
    p.int(0);
    p.intTuple(t.shape);
    p.intTuple(strides);
    p.newFalse();
    p.global('collections', 'OrderedDict');
    p.emptyTuple();
    p.reduce();
    p.tuple();
    p.reduce();
  });
  p.setItems();
  p.stop();
  return p.bytes();
}

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

export interface TorchWriteOptions {
  /** Name of the archive folder inside the zip (torch uses the file stem or "archive"). */
  archive?: string;
  /** Write ZIP64 central-directory fields and end records even for a small file. */
  zip64?: boolean;
}

/** Writes a state dict as a torch.save zip checkpoint (via `<path>.tmp`, then renamed). */
export function writeTorchCheckpoint(path: string, tensors: TensorData[], opts: TorchWriteOptions = {}): void {
  const archive = opts.archive ?? 'archive';
  const seen = new Set<string>();
  for (const t of tensors) {
    if (!(t.dtype in STORAGE_CLASS)) throw new InvalidArgumentError('E_INVALID_ARG', `tensor '${t.name}': dtype ${t.dtype} cannot be written`);
    if (seen.has(t.name)) throw new InvalidArgumentError('E_INVALID_ARG', `duplicate tensor name '${t.name}'`);
    seen.add(t.name);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel)
      throw new InvalidArgumentError('E_INVALID_ARG', `tensor '${t.name}': ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  writeStoredZip(path, [
    { name: `${archive}/data.pkl`, data: stateDictPickle(tensors) },
    { name: `${archive}/byteorder`, data: Buffer.from('little') },
    ...tensors.map((t, i) => ({ name: `${archive}/data/${i}`, data: encodeFloats(t.data, t.dtype as FloatDtype) })),
    { name: `${archive}/version`, data: Buffer.from('3\n') },
  ], opts.zip64 ?? false);
}

/** Writes storedZip(entries, zip64) to `path` (via `<path>.tmp`, then renamed). */
export function writeStoredZip(path: string, entries: { name: string; data: Buffer }[], zip64 = false): void {
  const bytes = storedZip(entries, zip64);
  const tmp = `${path}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.renameSync(tmp, path);
}

/**
 * A zip of stored (uncompressed) entries, each entry's data aligned to 64 bytes as torch
 * aligns it; `zip64` writes the ZIP64 fields and end records.
 */
export function storedZip(entries: { name: string; data: Buffer }[], zip64 = false): Buffer {
  const chunks: Buffer[] = [];
  let pos = 0;
  const put = (b: Buffer): void => {
    chunks.push(b);
    pos += b.length;
  };
  const written: Written[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    // Extra field: ZIP64 sizes first (when asked), then 'FB' padding up to the alignment.
    const z64 = zip64 ? 20 : 0;
    let extraLen = z64;
    const unaligned = (pos + 30 + name.length + extraLen) % ALIGN;
    // The padding needs room for its own 4-byte header; if less is missing, pad a block more.
    if (unaligned !== 0) extraLen += ALIGN - unaligned < 4 ? 2 * ALIGN - unaligned : ALIGN - unaligned;
    const h = Buffer.alloc(30 + name.length + extraLen);
    const crc = crc32(e.data);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(zip64 ? 45 : 20, 4);
    h.writeUInt16LE(0, 6); // flags
    h.writeUInt16LE(0, 8); // stored
    h.writeUInt32LE(0, 10); // time, date
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(zip64 ? 0xffffffff : e.data.length, 18);
    h.writeUInt32LE(zip64 ? 0xffffffff : e.data.length, 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(extraLen, 28);
    name.copy(h, 30);
    let x = 30 + name.length;
    if (zip64) {
      h.writeUInt16LE(0x0001, x);
      h.writeUInt16LE(16, x + 2);
      h.writeBigUInt64LE(BigInt(e.data.length), x + 4);
      h.writeBigUInt64LE(BigInt(e.data.length), x + 12);
      x += 20;
    }
    if (x < h.length) {
      h.writeUInt16LE(0x4246, x); // 'FB', as torch's writer pads
      h.writeUInt16LE(h.length - x - 4, x + 2);
    }
    written.push({ name, crc, size: e.data.length, offset: pos });
    put(h);
    put(e.data);
  }
  const cdStart = pos;
  for (const w of written) {
    const extra = zip64 ? 28 : 0;
    const c = Buffer.alloc(46 + w.name.length + extra);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(zip64 ? 45 : 20, 4);
    c.writeUInt16LE(zip64 ? 45 : 20, 6);
    c.writeUInt32LE(w.crc, 16);
    c.writeUInt32LE(zip64 ? 0xffffffff : w.size, 20);
    c.writeUInt32LE(zip64 ? 0xffffffff : w.size, 24);
    c.writeUInt16LE(w.name.length, 28);
    c.writeUInt16LE(extra, 30);
    c.writeUInt32LE(zip64 ? 0xffffffff : w.offset, 42);
    w.name.copy(c, 46);
    if (zip64) {
      const x = 46 + w.name.length;
      c.writeUInt16LE(0x0001, x);
      c.writeUInt16LE(24, x + 2);
      c.writeBigUInt64LE(BigInt(w.size), x + 4);
      c.writeBigUInt64LE(BigInt(w.size), x + 12);
      c.writeBigUInt64LE(BigInt(w.offset), x + 20);
    }
    put(c);
  }
  const cdSize = pos - cdStart;
  if (zip64) {
    const rec = Buffer.alloc(56);
    const recAt = pos;
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(written.length), 24);
    rec.writeBigUInt64LE(BigInt(written.length), 32);
    rec.writeBigUInt64LE(BigInt(cdSize), 40);
    rec.writeBigUInt64LE(BigInt(cdStart), 48);
    put(rec);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(recAt), 8);
    loc.writeUInt32LE(1, 16);
    put(loc);
  } else if (pos > 0xffffffff) {
    throw new InvalidArgumentError('E_INVALID_ARG', 'zip archive over 4 GiB: pass zip64');
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : written.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : written.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : cdSize, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : cdStart, 16);
  put(end);
  return Buffer.concat(chunks);
}
