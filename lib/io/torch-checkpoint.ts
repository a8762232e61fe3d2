/**
 * PyTorch checkpoints (`torch.save` zip files: pytorch_model.bin, .pt, .pth) as tensor lists
 * like a safetensors header gives: name, dtype, shape, and the absolute byte range of each
 * tensor's data inside the file, so the scan reads them in place. Only the zip directory and
 * data.pkl are read (restricted unpickler, lib/io/pickle.ts); tensor data never is.
 */
import * as fs from 'fs';
import { FormatError, IoError } from '../errors';
import { DTYPE_SIZES } from './dtype';
import { isObj, PDict, PTensor, PValue, unpickle } from './pickle';
import { checkNoOverlap, entryDataOffset, readAt, readZipDirectory, ZipDirectory, zipError } from './torch-zip';
import type { TensorEntry } from './types';

/** data.pkl larger than this is refused before it is read (real ones are a few MB). */
export const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

export interface TorchCheckpoint {
  tensors: TensorEntry[];
  warnings: string[];
}

/** Keys under which training scripts nest the state dict ({"state_dict": {...}}). */
const NESTED_KEYS = ['state_dict', 'model', 'model_state_dict', 'module', 'net', 'network', 'weights'];

function fail(file: string, rule: string, tensor?: string): FormatError {
  return new FormatError('E_FORMAT', `${file}: ${rule}`, { file, tensor });
}

function isTensorDict(v: PValue): boolean {
  return isObj(v, 'dict') && [...v.entries.values()].some((x) => isObj(x, 'tensor'));
}

/** The dict that holds the tensors: the top level, or one nested dict under a usual key. */
function stateDict(root: PValue, file: string, warnings: string[]): PDict {
  if (!isObj(root, 'dict')) throw fail(file, 'the checkpoint is not a dict of tensors');
  if (isTensorDict(root)) return root;
  const nested = [...root.entries].filter(([k, v]) => typeof k === 'string' && NESTED_KEYS.includes(k) && isTensorDict(v));
  if (nested.length === 1) {
    const others = [...root.entries.keys()].filter((k) => k !== nested[0][0]);
    if (others.length) warnings.push(`${file}: read the tensors under '${nested[0][0]}'; ignored ${others.map((k) => `'${k}'`).join(', ')}`);
    return nested[0][1] as PDict;
  }
  if (nested.length > 1) throw fail(file, `the checkpoint holds several state dicts (${nested.map(([k]) => `'${k}'`).join(', ')}); save one of them`);
  throw fail(file, 'the checkpoint holds no tensors at its top level nor under a key like state_dict or model');
}

function rowMajorStrides(size: number[]): number[] {
  const out = new Array<number>(size.length);
  let s = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= size[i];
  }
  return out;
}

/** Contiguous as torch defines it: strides of size-1 dimensions do not matter. */
export function isContiguous(size: number[], stride: number[]): boolean {
  const want = rowMajorStrides(size);
  return size.every((d, i) => d <= 1 || stride[i] === want[i]);
}

/** A torch.save file written without the zip container (a pickle at offset 0). */
function legacyError(file: string): FormatError {
  return fail(
    file,
    'is a legacy (pre-zip) torch.save checkpoint, which cannot be read without executing it; ' +
      'in a trusted environment, load it with torch.load and save it again with safetensors ' +
      '(safetensors.torch.save_file) or with torch.save\'s default zip serialization',
  );
}

function readCheckpoint(fd: number, file: string): TorchCheckpoint {
  const head = readAt(fd, file, 0, Math.min(2, fs.fstatSync(fd).size));
  if (head.length >= 1 && head[0] === 0x80) throw legacyError(file);
  if (head.length < 2 || head[0] !== 0x50 || head[1] !== 0x4b) throw fail(file, 'is not a torch checkpoint (no zip signature)');
  const dir = readZipDirectory(fd, file);
  const pkls = [...dir.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) throw fail(file, pkls.length ? `holds ${pkls.length} data.pkl entries` : 'has no <archive>/data.pkl entry');
  const prefix = pkls[0].slice(0, -'data.pkl'.length);

  const byteorder = dir.entries.get(`${prefix}byteorder`);
  const ranges: { name: string; start: number; end: number }[] = [];
  if (byteorder) {
    if (byteorder.size > 16) throw fail(file, `byteorder entry is ${byteorder.size} bytes`);
    const at = entryDataOffset(fd, dir, byteorder);
    const order = readAt(fd, file, at, byteorder.size).toString('latin1');
    if (order !== 'little') throw fail(file, `byteorder is '${order}'; only little-endian checkpoints are read`);
    ranges.push({ name: byteorder.name, start: byteorder.localHeaderOffset, end: at + byteorder.size });
  }

  const pklEntry = dir.entries.get(pkls[0])!;
  if (pklEntry.size > MAX_PICKLE_BYTES) throw fail(file, `data.pkl is ${pklEntry.size} bytes, over the limit of ${MAX_PICKLE_BYTES}`);
  const pklAt = entryDataOffset(fd, dir, pklEntry);
  ranges.push({ name: pklEntry.name, start: pklEntry.localHeaderOffset, end: pklAt + pklEntry.size });
  const root = unpickle(readAt(fd, file, pklAt, pklEntry.size), file);

  const warnings: string[] = [];
  const sd = stateDict(root, file, warnings);
  const storages = new Map<string, { offset: number; bytes: number }>();
  const tensors: TensorEntry[] = [];
  const ignored: string[] = [];
  for (const [key, value] of sd.entries) {
    if (!isObj(value, 'tensor') || typeof key !== 'string') {
      ignored.push(String(key));
      continue;
    }
    tensors.push(tensorEntry(fd, dir, prefix, key, value, storages, ranges));
  }
  if (ignored.length)
    warnings.push(`${file}: ignored ${ignored.length} non-tensor value(s): ${ignored.slice(0, 5).map((k) => `'${k}'`).join(', ')}${ignored.length > 5 ? ', ...' : ''}`);
  checkNoOverlap(file, ranges);
  return { tensors, warnings };
}

function tensorEntry(
  fd: number,
  dir: ZipDirectory,
  prefix: string,
  name: string,
  t: PTensor,
  storages: Map<string, { offset: number; bytes: number }>,
  ranges: { name: string; start: number; end: number }[],
): TensorEntry {
  const { file } = dir;
  const el = DTYPE_SIZES[t.storage.dtype];
  let st = storages.get(t.storage.key);
  if (!st) {
    const e = dir.entries.get(`${prefix}data/${t.storage.key}`);
    if (!e) throw fail(file, `tensor '${name}': storage '${t.storage.key}' has no zip entry ${prefix}data/${t.storage.key}`, name);
    if (e.size !== t.storage.numel * el)
      throw fail(file, `tensor '${name}': storage '${t.storage.key}' holds ${e.size} bytes, not ${t.storage.numel} × ${el}`, name);
    const at = entryDataOffset(fd, dir, e);
    st = { offset: at, bytes: e.size };
    storages.set(t.storage.key, st);
    ranges.push({ name: e.name, start: e.localHeaderOffset, end: at + e.size });
  }
  let numel = 1;
  for (const d of t.size) numel *= d;
  if (!Number.isSafeInteger(numel * el)) throw fail(file, `tensor '${name}': shape [${t.size.join(', ')}] is too large`, name);
  // The last element the tensor touches must lie inside its storage.
  let extent = numel === 0 ? 0 : 1;
  if (numel > 0) for (let i = 0; i < t.size.length; i++) extent += (t.size[i] - 1) * t.stride[i];
  if (t.storageOffset + extent > t.storage.numel)
    throw fail(file, `tensor '${name}': storage offset ${t.storageOffset} + extent ${extent} exceeds storage '${t.storage.key}' of ${t.storage.numel} elements`, name);
  const entry: TensorEntry = {
    name,
    dtype: t.storage.dtype,
    shape: t.size,
    file,
    offset: st.offset + t.storageOffset * el,
    byteLength: numel * el,
  };
  if (!isContiguous(t.size, t.stride)) entry.unreadable = `non-contiguous (strides [${t.stride.join(', ')}])`;
  return entry;
}

/** Reads a checkpoint's tensor list (synchronous: a directory and one pickle). */
export function readTorchCheckpointSync(file: string): TorchCheckpoint {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new IoError('E_IO', `${file}: cannot open: ${(e as Error).message}`, { file, cause: e });
  }
  try {
    return readCheckpoint(fd, file);
  } catch (e) {
    // Every read is bounds-checked first (the fuzz test finds no RangeError even without
    // this); should one slip through, the caller still gets a FormatError naming the file.
    if (e instanceof RangeError) throw zipError(file, `malformed (${e.message})`);
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

export async function readTorchCheckpoint(file: string): Promise<TorchCheckpoint> {
  return readTorchCheckpointSync(file);
}
