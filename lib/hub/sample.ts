/**
 * Which elements of a tensor a fingerprint keeps. The choice depends only on the seed, the
 * tensor's name and its trailing shape (and, for the row rate, the row count rounded up to a
 * power of two), never on the weights, so every model with that tensor gets the same
 * coordinates and a squared difference over them is exact on the sample.
 *
 * A tensor is seen as rows × rowLen (shape[0] rows; 1-D tensors are rows of one element).
 * The kept fraction is one per model, a power of two: 1 when the model's parameters fit the
 * budget (a small model's fingerprint is the model, and its estimates are exact), else
 * 2^-⌈log2(params / budget)⌉, so every model of one architecture samples alike and models of
 * slightly different sizes (a resized vocabulary) usually too.
 *
 * Small tensors (≤ wholeMax elements) are kept whole. Otherwise row r is sampled when
 * u(r) < rowRate, with u a hash of (key, r) in [0, 1): the rows sampled at a lower rate are a
 * subset of those at a higher rate, and the rows below R are the same whatever the row count,
 * so two models whose row counts differ (a resized vocabulary) share exactly the sampled rows
 * of their common prefix at the lower of their two rates. Each sampled row is read whole (its
 * moments are exact over the row) and keeps the values of a fixed set of columns.
 */
import { InvalidArgumentError } from '../errors';

export interface FingerprintConfig {
  /** Seed of the row and column choice (and of the fake initialization). */
  seed: number;
  /** Tensors with at most this many elements are kept whole. */
  wholeMax: number;
  /** Values a fingerprint aims to keep (float32 each); models up to this many parameters are kept whole. */
  budget: number;
  /** At least this many elements kept per large tensor. */
  keepMin: number;
  /** Columns kept per sampled row (all when the row is shorter). */
  cols: number;
}

/**
 * Defaults sized so that a 7B LLaMA-shaped model (291 tensors, 6.7e9 parameters: kept fraction
 * 2^-15) keeps about 340k values (1.4 MB as float32, under a 2 MB limit) and reads about 1% of
 * its bytes, while models up to 8,192 parameters are kept whole. The budget also sizes the
 * index: 10,000 models of 40k parameters keep 26 KB each (DuckDB reads blobs at about
 * 100 MB/s here, so bigger records would make loading, not comparing, the cost of a query).
 */
export const DEFAULT_FINGERPRINT_CONFIG: FingerprintConfig = { seed: 0, wholeMax: 1024, budget: 2 ** 13, keepMin: 1024, cols: 32 };

/** The kept fraction of a model with `params` parameters (see above). */
export function keepRateFor(c: FingerprintConfig, params: number): number {
  if (params <= c.budget) return 1;
  return 2 ** -Math.ceil(Math.log2(params / c.budget));
}

export function checkConfig(c: FingerprintConfig): FingerprintConfig {
  const ok = Number.isSafeInteger(c.seed) && c.seed >= 0 && Number.isSafeInteger(c.wholeMax) && c.wholeMax >= 0 &&
    Number.isSafeInteger(c.budget) && c.budget >= 1 && Number.isSafeInteger(c.keepMin) && c.keepMin >= 1 &&
    Number.isSafeInteger(c.cols) && c.cols >= 1;
  if (!ok) throw new InvalidArgumentError('E_INVALID_ARG', `fingerprint config is invalid: ${JSON.stringify(c)}`);
  return c;
}

/** FNV-1a 32 of a string's UTF-8 bytes. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** murmur3's 32-bit finalizer: a bijective mix, good enough to make indices look random. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** u(key, i) in [0, 1) for i < 2^32. */
export function unitHash(key: number, i: number): number {
  return fmix32((key ^ fmix32((i + 0x9e3779b9) >>> 0)) >>> 0) / 4294967296;
}

export interface TensorShapeView {
  rows: number;
  rowLen: number;
}

export function shapeView(shape: number[]): TensorShapeView {
  if (shape.length === 0) return { rows: 1, rowLen: 1 };
  return { rows: shape[0], rowLen: shape.slice(1).reduce((a, b) => a * b, 1) };
}

/** The hash keys of a tensor: from seed, name and the shape without its row count. */
export function sampleKeys(seed: number, name: string, shape: number[]): { rowKey: number; colKey: number } {
  const base = `${seed}\u0000${name}\u0000${shape.length}:${shape.slice(1).join('x')}`;
  return { rowKey: fnv1a(`r\u0000${base}`), colKey: fnv1a(`c\u0000${base}`) };
}

export interface TensorSample {
  /** Rate at which rows were sampled (1: every row). */
  rowRate: number;
  rows: Uint32Array;
  cols: Uint32Array;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The row rate of a tensor: 1 when kept whole, else from the rounded-up row count. */
export function rowRateOf(c: FingerprintConfig, shape: number[], keepRate: number): number {
  const { rows, rowLen } = shapeView(shape);
  if (rows * rowLen <= c.wholeMax || keepRate >= 1) return 1;
  const k = Math.min(rowLen, c.cols);
  const bucket = nextPow2(rows);
  const keep = Math.max(c.keepMin, bucket * rowLen * keepRate);
  return Math.min(1, Math.ceil(keep / k) / bucket);
}

/** The kept columns: all when whole or short, else the `cols` columns of smallest hash. */
export function colsOf(c: FingerprintConfig, name: string, shape: number[], keepRate: number): Uint32Array {
  const { rows, rowLen } = shapeView(shape);
  if (rows * rowLen <= c.wholeMax || keepRate >= 1 || rowLen <= c.cols) return Uint32Array.from({ length: rowLen }, (_, i) => i);
  const { colKey } = sampleKeys(c.seed, name, shape);
  // The `cols` smallest hashes, kept in a small sorted buffer (one pass, no sort of the row).
  const k = c.cols;
  const best = new Float64Array(k).fill(Infinity);
  const idx = new Uint32Array(k);
  for (let i = 0; i < rowLen; i++) {
    const u = unitHash(colKey, i);
    if (u >= best[k - 1]) continue;
    let j = k - 1;
    while (j > 0 && best[j - 1] > u) {
      best[j] = best[j - 1];
      idx[j] = idx[j - 1];
      j--;
    }
    best[j] = u;
    idx[j] = i;
  }
  return idx.sort();
}

/** Rows r < limit with u(r) < rate. */
export function rowsBelow(rowKey: number, rate: number, limit: number): Uint32Array {
  if (rate >= 1) return Uint32Array.from({ length: limit }, (_, i) => i);
  const out: number[] = [];
  for (let r = 0; r < limit; r++) if (unitHash(rowKey, r) < rate) out.push(r);
  return Uint32Array.from(out);
}

const cache = new Map<string, TensorSample>();

/** The sample of a tensor (memoised: an index adds many models of one architecture). */
export function sampleTensor(c: FingerprintConfig, name: string, shape: number[], keepRate: number): TensorSample {
  const key = JSON.stringify([c, name, shape, keepRate]);
  let s = cache.get(key);
  if (s === undefined) {
    if (cache.size > 100000) cache.clear();
    s = computeSample(c, name, shape, keepRate);
    cache.set(key, s);
  }
  return s;
}

function computeSample(c: FingerprintConfig, name: string, shape: number[], keepRate: number): TensorSample {
  const { rows } = shapeView(shape);
  const rowRate = rowRateOf(c, shape, keepRate);
  const { rowKey } = sampleKeys(c.seed, name, shape);
  return { rowRate, rows: rowsBelow(rowKey, rowRate, rows), cols: colsOf(c, name, shape, keepRate) };
}
