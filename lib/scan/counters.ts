/**
 * Step counters: integer scalars that training increments and fine-tuning keeps counting,
 * read as direction evidence. PyTorch's BatchNorm layers hold `num_batches_tracked`, an int64
 * scalar that grows by one per training batch; `load_state_dict` copies it into the child, so
 * a fine-tune (in train mode) ends with a larger count than the model it started from. A
 * parent's counter is then below its child's: the one direction signal that does not depend
 * on the optimizer, the weight decay or the initialisation.
 *
 * Counters are read with one small read per tensor after validation (integer dtype, one
 * element, byte length equal to the dtype's size, inside the file); anything else is left
 * alone, and a value that is negative or beyond 2^53 is dropped, never guessed.
 */
import * as fs from 'fs';
import { IoError } from '../errors';
import { DTYPE_SIZES } from '../io/dtype';
import type { ModelSource, TensorEntry } from '../io/types';

/** Tensor names read as step counters (the last name component). */
export const COUNTER_NAMES: readonly string[] = ['num_batches_tracked'];

const INTEGER_DTYPES = new Set(['I8', 'I16', 'I32', 'I64', 'U8', 'U16', 'U32', 'U64']);

/** One counter tensor name and its value per model of the scan (null: the model lacks it). */
export interface StepCounter {
  name: string;
  values: (number | null)[];
}

export function isCounterName(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return COUNTER_NAMES.includes(last);
}

/** Whether a tensor entry can be read as a counter: an integer scalar (any shape of one element). */
function counterShaped(t: TensorEntry): boolean {
  if (!INTEGER_DTYPES.has(t.dtype) || t.unreadable !== undefined) return false;
  if (!t.shape.every((d) => d === 1)) return false;
  return t.byteLength === DTYPE_SIZES[t.dtype];
}

/** Decodes a little-endian integer of the given dtype; null when it is not a safe non-negative integer. */
export function decodeCounter(bytes: Buffer, dtype: string): number | null {
  let v: bigint | number;
  switch (dtype) {
    case 'I8': v = bytes.readInt8(0); break;
    case 'U8': v = bytes.readUInt8(0); break;
    case 'I16': v = bytes.readInt16LE(0); break;
    case 'U16': v = bytes.readUInt16LE(0); break;
    case 'I32': v = bytes.readInt32LE(0); break;
    case 'U32': v = bytes.readUInt32LE(0); break;
    case 'I64': v = bytes.readBigInt64LE(0); break;
    case 'U64': v = bytes.readBigUInt64LE(0); break;
    default: return null;
  }
  if (typeof v === 'bigint') {
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    return Number(v);
  }
  return v >= 0 ? v : null;
}

function readValue(t: TensorEntry, fds: Map<string, { fd: number; size: number }>): number | null {
  let f = fds.get(t.file);
  if (!f) {
    try {
      const fd = fs.openSync(t.file, 'r');
      f = { fd, size: fs.fstatSync(fd).size };
    } catch (e) {
      throw new IoError('E_IO', `${t.file}: cannot open to read step counter '${t.name}': ${(e as Error).message}`, { file: t.file, tensor: t.name });
    }
    fds.set(t.file, f);
  }
  if (!Number.isSafeInteger(t.offset) || t.offset < 0 || t.offset + t.byteLength > f.size) return null;
  const buf = Buffer.alloc(t.byteLength);
  const n = fs.readSync(f.fd, buf, 0, t.byteLength, t.offset);
  if (n !== t.byteLength) return null;
  return decodeCounter(buf, t.dtype);
}

/**
 * The step counters of a set of models, by tensor name (sorted), each with a value per model.
 * Only names that at least one model holds as a readable integer scalar are listed.
 */
export function readCounters(models: ModelSource[]): StepCounter[] {
  const byName = new Map<string, (number | null)[]>();
  const fds = new Map<string, { fd: number; size: number }>();
  try {
    models.forEach((m, mi) => {
      for (const t of m.tensors) {
        if (!isCounterName(t.name) || !counterShaped(t)) continue;
        const value = readValue(t, fds);
        if (value === null) continue;
        let row = byName.get(t.name);
        if (!row) byName.set(t.name, (row = new Array<number | null>(models.length).fill(null)));
        row[mi] = value;
      }
    });
  } finally {
    for (const { fd } of fds.values()) fs.closeSync(fd);
  }
  return [...byName.keys()].sort().map((name) => ({ name, values: byName.get(name)! }));
}

/**
 * Per model: the largest of its counters (NaN when it has none). Every BatchNorm layer of a
 * network counts the same batches in train mode; a layer kept in eval mode (frozen) stops
 * counting, so the largest counter is the one that saw every training batch.
 */
export function counterSignal(counters: StepCounter[], modelCount: number): Float64Array {
  const out = new Float64Array(modelCount).fill(NaN);
  for (const c of counters) {
    c.values.forEach((v, m) => {
      if (v !== null && m < modelCount && !(out[m] >= v)) out[m] = v;
    });
  }
  return out;
}
