/**
 * The binary form of a fingerprint, as the index stores it (one BLOB per model):
 *
 *   "NPFP" | u32 version (2) | u32 n = JSON length | n bytes of UTF-8 JSON | zero padding to 4
 *   then per tensor, in JSON order: rows u32[nRows], values f32[nRows·nCols], or, when
 *   valueBits is 16, the values' upper halves u16[nRows·nCols] and zero padding to 4 bytes
 *
 * all little-endian. The JSON holds everything else (config, fake-init spec, sizes, per tensor
 * name, dtype, shape, row rate, column mode, counts, moments, Σ(x − r)² over the kept values and,
 * when every row was sampled, over the whole tensor: an optional field, so records written before it
 * existed still decode, and their estimate falls back as lib/hub/estimate.ts says). The kept columns are
 * not stored: they follow from the config's seed, the tensor's name and shape, the column mode
 * and the rows (lib/hub/sample.ts), and storing per-row columns would double a record.
 * Version 1 kept one set of columns for every row and stored it; its records are refused.
 * A tensor whose kept values all have zero low halves (every value of a BF16 tensor, widened to
 * float32) stores the upper halves only: exactly the same values in half the bytes, which is
 * what DuckDB's insert and checkpoint cost scales with (a 7B BF16 model: 0.7 MB, not 1.4). The decoder checks every field and
 * that the binary part has exactly the announced length before it allocates, so a damaged
 * record is a FormatError naming where it came from, never a crash or a huge allocation.
 */
import { FormatError } from '../errors';
import type { Fingerprint, FingerprintTensor } from './fingerprint';
import { checkConfig, ColMode, FingerprintConfig, perRowColumnsCached, shapeView } from './sample';

const MAGIC = 'NPFP';
export const FINGERPRINT_CODEC_VERSION = 2;

interface TensorJson {
  name: string;
  dtype: string;
  shape: number[];
  rowRate: number;
  colMode: ColMode;
  nRows: number;
  /** Columns kept per row. */
  nCols: number;
  moments: number[];
  fakeInitSq: number;
  /** Σ(x − r)² over the whole tensor, when every row was sampled (absent in older records). */
  fakeInitWholeSq?: number;
  /** 32: values stored as float32; 16: their upper halves (the lower halves are zero). */
  valueBits: 16 | 32;
}

interface FingerprintJson {
  config: FingerprintConfig;
  fakeInit: string;
  params: number;
  bytes: number;
  bytesRead: number;
  reads: number;
  skipped: { tensor: string; reason: string }[];
  tensors: TensorJson[];
  adapter?: { basePath: string; rank: number };
}

export function encodeFingerprint(fp: Fingerprint): Buffer {
  const json: FingerprintJson = {
    config: fp.config,
    fakeInit: fp.fakeInit,
    params: fp.params,
    bytes: fp.bytes,
    bytesRead: fp.bytesRead,
    reads: fp.reads,
    skipped: fp.skipped,
    ...(fp.adapter ? { adapter: fp.adapter } : {}),
    tensors: fp.tensors.map((t) => ({
      name: t.name, dtype: t.dtype, shape: t.shape, rowRate: t.rowRate, colMode: t.colMode, nRows: t.rows.length, nCols: t.nCols,
      moments: [...t.moments], fakeInitSq: t.fakeInitSq,
      ...(t.fakeInitWholeSq === undefined ? {} : { fakeInitWholeSq: t.fakeInitWholeSq }),
      valueBits: lowHalvesZero(t.values) ? 16 : 32,
    })),
  };
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const pad = (4 - (text.length % 4)) % 4;
  const binary = json.tensors.reduce((s, t) => s + 4 * t.nRows + valueBytes(t.valueBits, t.nRows * t.nCols), 0);
  const out = Buffer.alloc(12 + text.length + pad + binary);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(FINGERPRINT_CODEC_VERSION, 4);
  out.writeUInt32LE(text.length, 8);
  text.copy(out, 12);
  let at = 12 + text.length + pad;
  fp.tensors.forEach((t, i) => {
    Buffer.from(t.rows.buffer, t.rows.byteOffset, t.rows.byteLength).copy(out, at);
    at += t.rows.byteLength;
    if (json.tensors[i].valueBits === 32) {
      Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).copy(out, at);
    } else {
      const bits = new Uint32Array(t.values.buffer, t.values.byteOffset, t.values.length);
      for (let k = 0; k < bits.length; k++) out.writeUInt16LE(bits[k] >>> 16, at + 2 * k);
    }
    at += valueBytes(json.tensors[i].valueBits, t.values.length);
  });
  return out;
}

/** Bytes of n stored values (16-bit ones padded to 4). */
function valueBytes(bits: 16 | 32, n: number): number {
  return bits === 32 ? 4 * n : 4 * Math.ceil(n / 2);
}

/** True when every value's lower 16 bits are zero (a BF16 value widened to float32). */
function lowHalvesZero(values: Float32Array): boolean {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let k = 0; k < bits.length; k++) if ((bits[k] & 0xffff) !== 0) return false;
  return true;
}

const isInt = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function checkTensor(t: unknown, fail: (why: string) => never): TensorJson {
  const o = t as Partial<TensorJson>;
  if (!o || typeof o !== 'object') fail('a tensor entry is not an object');
  if (typeof o.name !== 'string' || typeof o.dtype !== 'string') fail('a tensor has no name or dtype');
  if (!Array.isArray(o.shape) || o.shape.length > 16 || !o.shape.every((d) => isInt(d, 2 ** 40))) fail(`tensor '${o.name}': bad shape`);
  if (!isNum(o.rowRate) || o.rowRate <= 0 || o.rowRate > 1) fail(`tensor '${o.name}': bad row rate`);
  const { rows, rowLen } = shapeView(o.shape);
  if (!isInt(o.nRows, rows) || !isInt(o.nCols, rowLen)) fail(`tensor '${o.name}': row or column count larger than its shape`);
  if (o.colMode !== 'all' && o.colMode !== 'per-row') fail(`tensor '${o.name}': bad column mode`);
  if (o.colMode === 'all' && o.nCols !== rowLen) fail(`tensor '${o.name}': column mode 'all' with ${o.nCols} of ${rowLen} columns`);
  if (o.colMode === 'per-row' && 2 * o.nCols > rowLen) fail(`tensor '${o.name}': ${o.nCols} per-row columns of ${rowLen} (at most half are sampled)`);
  if (!Array.isArray(o.moments) || o.moments.length !== 4 || !o.moments.every(isNum)) fail(`tensor '${o.name}': bad moments`);
  if (!isNum(o.fakeInitSq)) fail(`tensor '${o.name}': bad fakeInitSq`);
  if (o.fakeInitWholeSq !== undefined && (!isNum(o.fakeInitWholeSq) || o.fakeInitWholeSq < 0 || o.nRows !== rows)) {
    fail(`tensor '${o.name}': bad fakeInitWholeSq (a finite sum, and only when every row is kept)`);
  }
  if (o.valueBits !== 16 && o.valueBits !== 32) fail(`tensor '${o.name}': bad valueBits`);
  return o as TensorJson;
}

function checkAdapter(a: unknown, fail: (why: string) => never): { basePath: string; rank: number } {
  const o = a as { basePath?: unknown; rank?: unknown };
  if (!o || typeof o !== 'object' || typeof o.basePath !== 'string' || o.basePath.length === 0 || o.basePath.length > 4096 || !isInt(o.rank) || (o.rank as number) < 1) fail('bad adapter');
  return { basePath: o.basePath as string, rank: o.rank as number };
}

function ascendingBelow(a: Uint32Array, limit: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] >= limit || (i > 0 && a[i] <= a[i - 1])) return false;
  return true;
}

/** Decodes a fingerprint; `source` names it in errors (a file, or an index and a model). */
export function decodeFingerprint(buf: Uint8Array, source: string): Fingerprint {
  const fail = (why: string): never => {
    throw new FormatError('E_FORMAT', `${source}: not a valid fingerprint record: ${why}`, { file: source });
  };
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== MAGIC) fail('bad magic');
  const version = b.readUInt32LE(4);
  if (version !== FINGERPRINT_CODEC_VERSION) fail(`version ${version}, this library reads ${FINGERPRINT_CODEC_VERSION}`);
  const n = b.readUInt32LE(8);
  if (n > b.length - 12) fail('JSON runs past the end');
  let json: FingerprintJson;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(12, 12 + n))) as FingerprintJson;
  } catch (e) {
    return fail(`bad JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || !Array.isArray(json.tensors) || !Array.isArray(json.skipped)) fail('missing tensors');
  if (typeof json.fakeInit !== 'string' || !isInt(json.params) || !isInt(json.bytes) || !isInt(json.bytesRead) || !isInt(json.reads)) fail('bad sizes');
  let config: FingerprintConfig;
  try {
    config = checkConfig({ ...(json.config as FingerprintConfig) });
    config = { seed: config.seed, wholeMax: config.wholeMax, wholeParams: config.wholeParams, budget: config.budget, keepMin: config.keepMin, cols: config.cols };
  } catch {
    return fail('bad config');
  }
  const tensors = json.tensors.map((t) => checkTensor(t, fail));
  const start = 12 + n + ((4 - (n % 4)) % 4);
  const need = tensors.reduce((s, t) => s + 4 * t.nRows + valueBytes(t.valueBits, t.nRows * t.nCols), 0);
  if (start + need !== b.length) fail(`binary part is ${b.length - start} bytes, the tensors need ${need}`);
  const aligned = new Uint8Array(b.length - start);
  aligned.set(b.subarray(start));
  let at = 0;
  const out: FingerprintTensor[] = tensors.map((t) => {
    const rows = new Uint32Array(aligned.buffer, at, t.nRows);
    at += 4 * t.nRows;
    const count = t.nRows * t.nCols;
    let values: Float32Array;
    if (t.valueBits === 32) values = new Float32Array(aligned.buffer, at, count);
    else {
      const halves = new Uint16Array(aligned.buffer, at, count);
      if (count % 2 === 1 && new Uint16Array(aligned.buffer, at + 2 * count, 1)[0] !== 0) fail(`tensor '${t.name}': padding is not zero`);
      values = new Float32Array(count);
      const bits = new Uint32Array(values.buffer);
      for (let k = 0; k < count; k++) bits[k] = halves[k] << 16;
    }
    at += valueBytes(t.valueBits, count);
    const { rows: R, rowLen } = shapeView(t.shape);
    if (!ascendingBelow(rows, R)) fail(`tensor '${t.name}': rows not ascending within the shape`);
    // Derived, not stored (see above); bounded by the values just checked against the record's length.
    const cols = t.colMode === 'all' ? Uint32Array.from({ length: rowLen }, (_, i) => i) : perRowColumnsCached(config.seed, t.name, t.shape, t.nCols, rows);
    return {
      name: t.name, dtype: t.dtype, shape: t.shape, rowRate: t.rowRate, colMode: t.colMode, nCols: t.nCols, rows, cols, values,
      moments: [t.moments[0], t.moments[1], t.moments[2], t.moments[3]], fakeInitSq: t.fakeInitSq,
      ...(t.fakeInitWholeSq === undefined ? {} : { fakeInitWholeSq: t.fakeInitWholeSq }),
    };
  });
  return {
    config, fakeInit: json.fakeInit, tensors: out,
    skipped: json.skipped.map((s) => ({ tensor: String(s?.tensor), reason: String(s?.reason) })),
    ...(json.adapter === undefined ? {} : { adapter: checkAdapter(json.adapter, fail) }),
    params: json.params, bytes: json.bytes, bytesRead: json.bytesRead, reads: json.reads,
  };
}
