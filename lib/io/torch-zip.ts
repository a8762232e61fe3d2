/**
 * The zip container of `torch.save` (PyTorch >= 1.6): only what a checkpoint needs is read —
 * the end-of-central-directory record (and its ZIP64 form, which torch writes for large
 * archives), the central directory, and the local headers of the entries asked for. Tensor
 * data is never read: an entry's data offset is returned so the scan can read it in place,
 * which is why every entry must be STORED (method 0). Every offset and size is checked
 * against the file size before anything is read or allocated.
 */
import * as fs from 'fs';
import { FormatError, IoError } from '../errors';

/** Central directories larger than this are refused (a million tensors fit in ~100 MB). */
export const MAX_CENTRAL_DIRECTORY_BYTES = 256 * 1024 * 1024;
export const MAX_ZIP_ENTRIES = 2_000_000;
export const MAX_ENTRY_NAME_BYTES = 4096;

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  size: number;
  compressedSize: number;
  localHeaderOffset: number;
}

export interface ZipDirectory {
  file: string;
  size: number;
  entries: Map<string, ZipEntry>;
  /** Where the central directory starts: no entry's data may reach into it. */
  centralDirectoryOffset: number;
}

export function zipError(file: string, rule: string): FormatError {
  return new FormatError('E_FORMAT', `${file}: ${rule}`, { file });
}

/** Reads exactly `length` bytes at `position`, after the caller checked they lie in the file. */
export function readAt(fd: number, file: string, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  try {
    while (done < length) {
      const n = fs.readSync(fd, buf, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
  } catch (e) {
    throw new IoError('E_IO', `${file}: cannot read: ${(e as Error).message}`, { file, cause: e });
  }
  if (done !== length) throw zipError(file, `file ended early (wanted ${length} bytes at offset ${position})`);
  return buf;
}

/** A 64-bit little-endian field as a number, refused when it cannot be exact. */
function u64(buf: Buffer, at: number, file: string, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw zipError(file, `zip ${what} ${v} is too large`);
  return Number(v);
}

function findEocd(fd: number, file: string, size: number): { at: number; buf: Buffer } {
  if (size < EOCD_SIZE) throw zipError(file, `not a zip archive (${size} bytes, shorter than an end-of-central-directory record)`);
  const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = size - tailLength;
  const tail = readAt(fd, file, tailStart, tailLength);
  // The last record whose comment ends exactly at the end of the file: a signature inside
  // a comment or inside tensor data cannot be mistaken for it.
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD_SIG) continue;
    if (i + EOCD_SIZE + tail.readUInt16LE(i + 20) !== tailLength) continue;
    return { at: tailStart + i, buf: tail.subarray(i, i + EOCD_SIZE) };
  }
  throw zipError(file, 'not a zip archive (no end-of-central-directory record)');
}

/** Entry count, directory size and offset: from the EOCD, or its ZIP64 record when marked. */
function directoryBounds(fd: number, file: string, size: number): { count: number; cdSize: number; cdOffset: number } {
  const { at, buf } = findEocd(fd, file, size);
  const disk = buf.readUInt16LE(4);
  const cdDisk = buf.readUInt16LE(6);
  let onDisk = buf.readUInt16LE(8);
  let count = buf.readUInt16LE(10);
  let cdSize = buf.readUInt32LE(12);
  let cdOffset = buf.readUInt32LE(16);
  const zip64 = count === 0xffff || onDisk === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff;
  let recordEnd = at;
  if (zip64) {
    if (at < ZIP64_LOCATOR_SIZE) throw zipError(file, 'ZIP64 end-of-central-directory locator is missing');
    const loc = readAt(fd, file, at - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE);
    if (loc.readUInt32LE(0) !== ZIP64_LOCATOR_SIG) throw zipError(file, 'ZIP64 end-of-central-directory locator is missing');
    if (loc.readUInt32LE(4) !== 0 || loc.readUInt32LE(16) !== 1) throw zipError(file, 'multi-disk zip archives are not supported');
    const recAt = u64(loc, 8, file, 'ZIP64 record offset');
    if (recAt + ZIP64_EOCD_SIZE > at - ZIP64_LOCATOR_SIZE)
      throw zipError(file, `ZIP64 end-of-central-directory record offset ${recAt} is outside the file`);
    const rec = readAt(fd, file, recAt, ZIP64_EOCD_SIZE);
    if (rec.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw zipError(file, `no ZIP64 end-of-central-directory record at offset ${recAt}`);
    if (rec.readUInt32LE(16) !== 0 || rec.readUInt32LE(20) !== 0) throw zipError(file, 'multi-disk zip archives are not supported');
    onDisk = u64(rec, 24, file, 'entry count');
    count = u64(rec, 32, file, 'entry count');
    cdSize = u64(rec, 40, file, 'central directory size');
    cdOffset = u64(rec, 48, file, 'central directory offset');
    recordEnd = recAt;
  } else if (disk !== 0 || cdDisk !== 0) {
    throw zipError(file, 'multi-disk zip archives are not supported');
  }
  if (onDisk !== count) throw zipError(file, 'multi-disk zip archives are not supported');
  if (count > MAX_ZIP_ENTRIES) throw zipError(file, `zip archive declares ${count} entries, over the limit of ${MAX_ZIP_ENTRIES}`);
  if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES)
    throw zipError(file, `zip central directory is ${cdSize} bytes, over the limit of ${MAX_CENTRAL_DIRECTORY_BYTES}`);
  if (cdSize < count * CENTRAL_SIZE) throw zipError(file, `zip central directory (${cdSize} bytes) is too small for ${count} entries`);
  if (cdOffset + cdSize > recordEnd)
    throw zipError(file, `zip central directory (offset ${cdOffset}, ${cdSize} bytes) runs past the end-of-central-directory record`);
  return { count, cdSize, cdOffset };
}

/** Applies the ZIP64 extended-information extra field to the fields marked 0xFFFFFFFF. */
function applyZip64Extra(extra: Buffer, e: ZipEntry, file: string): void {
  const needSize = e.size === 0xffffffff;
  const needCompressed = e.compressedSize === 0xffffffff;
  const needOffset = e.localHeaderOffset === 0xffffffff;
  if (!needSize && !needCompressed && !needOffset) return;
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (p + 4 + len > extra.length) break;
    if (id === 0x0001) {
      let q = p + 4;
      const take = (what: string): number => {
        if (q + 8 > p + 4 + len) throw zipError(file, `entry '${e.name}': ZIP64 extra field is too short for its ${what}`);
        const v = u64(extra, q, file, what);
        q += 8;
        return v;
      };
      if (needSize) e.size = take('size');
      if (needCompressed) e.compressedSize = take('compressed size');
      if (needOffset) e.localHeaderOffset = take('local header offset');
      return;
    }
    p += 4 + len;
  }
  throw zipError(file, `entry '${e.name}': sizes marked ZIP64 but no ZIP64 extra field`);
}

/** Opens and parses the central directory. The caller closes `fd`. */
export function readZipDirectory(fd: number, file: string): ZipDirectory {
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
  } catch (e) {
    throw new IoError('E_IO', `${file}: cannot stat: ${(e as Error).message}`, { file, cause: e });
  }
  const { count, cdSize, cdOffset } = directoryBounds(fd, file, size);
  const cd = readAt(fd, file, cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length) throw zipError(file, `zip central directory ends inside entry ${i}`);
    if (cd.readUInt32LE(p) !== CENTRAL_SIG) throw zipError(file, `zip central directory entry ${i} has a bad signature`);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    if (nameLen === 0 || nameLen > MAX_ENTRY_NAME_BYTES) throw zipError(file, `zip entry ${i} has a name of ${nameLen} bytes`);
    const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (end > cd.length) throw zipError(file, `zip central directory ends inside entry ${i}`);
    const name = cd.toString('utf8', p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    const e: ZipEntry = {
      name,
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localHeaderOffset: cd.readUInt32LE(p + 42),
    };
    applyZip64Extra(cd.subarray(p + CENTRAL_SIZE + nameLen, p + CENTRAL_SIZE + nameLen + extraLen), e, file);
    if (entries.has(name)) throw zipError(file, `zip entry '${name}' appears twice in the central directory`);
    entries.set(name, e);
    p = end;
  }
  return { file, size, entries, centralDirectoryOffset: cdOffset };
}

/**
 * Validates an entry's local header and returns where its data starts. Entries must be
 * stored uncompressed and unencrypted, and their data must end before the central directory.
 */
export function entryDataOffset(fd: number, dir: ZipDirectory, e: ZipEntry): number {
  const { file } = dir;
  if (e.method !== 0) throw zipError(file, `zip entry '${e.name}' is compressed (method ${e.method}); torch checkpoints store entries uncompressed`);
  if (e.flags & 0x1) throw zipError(file, `zip entry '${e.name}' is encrypted`);
  if (e.compressedSize !== e.size) throw zipError(file, `zip entry '${e.name}' is stored but its sizes differ (${e.compressedSize} and ${e.size})`);
  if (e.localHeaderOffset + LOCAL_SIZE > dir.centralDirectoryOffset)
    throw zipError(file, `zip entry '${e.name}': local header offset ${e.localHeaderOffset} is outside the file's data area`);
  const h = readAt(fd, file, e.localHeaderOffset, LOCAL_SIZE);
  if (h.readUInt32LE(0) !== LOCAL_SIG) throw zipError(file, `zip entry '${e.name}': bad local header signature at offset ${e.localHeaderOffset}`);
  if (h.readUInt16LE(8) !== 0) throw zipError(file, `zip entry '${e.name}': local header says compressed (method ${h.readUInt16LE(8)})`);
  const nameLen = h.readUInt16LE(26);
  const extraLen = h.readUInt16LE(28);
  const dataStart = e.localHeaderOffset + LOCAL_SIZE + nameLen + extraLen;
  if (dataStart + e.size > dir.centralDirectoryOffset)
    throw zipError(file, `zip entry '${e.name}' (data at ${dataStart}, ${e.size} bytes) runs into the central directory or past the end of the file`);
  const localName = readAt(fd, file, e.localHeaderOffset + LOCAL_SIZE, nameLen).toString('utf8');
  if (localName !== e.name) throw zipError(file, `zip entry '${e.name}': local header names '${localName}'`);
  return dataStart;
}

/** Refuses entries whose byte ranges (header through data) overlap: one byte, two meanings. */
export function checkNoOverlap(file: string, ranges: { name: string; start: number; end: number }[]): void {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].start < sorted[i - 1].end)
      throw zipError(file, `zip entries '${sorted[i - 1].name}' and '${sorted[i].name}' overlap`);
}
