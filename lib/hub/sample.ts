/**
 * Which elements of a tensor a fingerprint keeps. The choice depends only on the seed, the
 * tensor's name and its trailing shape (and, for the row rate, the row count rounded up to a
 * power of two), never on the weights, so every model with that tensor gets the same
 * coordinates and a squared difference over them is exact on the sample.
 *
 * A tensor is seen as rows × rowLen (shape[0] rows; 1-D tensors are rows of one element).
 * The kept fraction is one per model, a power of two: 1 when the model's parameters fit the
 * budget or `wholeParams` (a small model's fingerprint is the model, and its estimates are
 * exact), else 2^-⌈log2(params / budget)⌉, so every model of one architecture samples alike and models of
 * slightly different sizes (a resized vocabulary) usually too.
 *
 * Small tensors (≤ wholeMax elements) are kept whole. Otherwise row r is sampled when
 * u(r) < rowRate, with u a hash of (key, r) in [0, 1): the rows sampled at a lower rate are a
 * subset of those at a higher rate, and the rows below R are the same whatever the row count,
 * so two models whose row counts differ (a resized vocabulary) share exactly the sampled rows
 * of their common prefix at the lower of their two rates. Each sampled row is read whole (its
 * moments are exact over the row) and keeps the values of `cols` columns of its own (more when
 * every row is sampled and the tensor's share allows, colsPerRowOf), drawn from
 * a hash of (column key, row index): a different set per row, so the kept coordinates spread
 * over every column of the tensor, yet the same set for that row in every model with the
 * tensor. With one fixed set of columns for all rows (the first layout), which kind of input
 * the few chosen columns happened to be (an MNIST border pixel is hardly trained) moved every
 * distance of the tensor together: ‖parent − child‖² of an mnist-fc fc1 was off by 6.7–8.9% rms
 * (32 columns), against 1.3–2.1% with per-row columns (98, its share; eval:index-noise).
 */
import { InvalidArgumentError } from '../errors';

export interface FingerprintConfig {
  /** Seed of the row and column choice (and of the fake initialization). */
  seed: number;
  /** Tensors with at most this many elements are kept whole. */
  wholeMax: number;
  /** Models of at most this many parameters are kept whole (0: only those within the budget). */
  wholeParams: number;
  /** Values a sampled fingerprint aims to keep (float32 each); models up to this many parameters are kept whole. */
  budget: number;
  /** At least this many elements kept per large tensor. */
  keepMin: number;
  /** Columns kept per sampled row (all when the row is shorter). */
  cols: number;
}

/**
 * Defaults. A model of at most `wholeParams` = 262,144 parameters (512 KB in BF16, 1 MB in F32:
 * no more than a 7B model's fingerprint) is kept whole, so its fingerprint is the model and
 * every estimate is exact: detection over the index gives the exact scan's answer on every zoo
 * preset and seed (eval:index). Sampled, an mnist-fc model (51k parameters, 1/8 kept) had its
 * Gram off by 1.3–2.1% rms, which moved the default method by up to 3 of 25 edges on a seed.
 * A larger model keeps a power-of-two fraction of itself, between half the budget (8,192 values)
 * and the budget: a 7B LLaMA-shaped model (291 tensors, 6.7e9 parameters) keeps mostly keepMin
 * per tensor, about 340k values (1.4 MB as float32, under a 2 MB limit; 0.93 MB as its record,
 * BF16 values in 16 bits) and reads about 0.5% of its bytes. The budget sizes what a query
 * loads: DuckDB reads blobs at about 25–100 MB/s here, so a model kept whole also gets a
 * **probe**, its fingerprint at `probeConfigOf` (sampled at the budget), which `index query`
 * compares instead (lib/hub/query.ts): a 49k-parameter BF16 model's record is 103 KB whole,
 * its probe 16 KB.
 */
export const DEFAULT_FINGERPRINT_CONFIG: FingerprintConfig = { seed: 0, wholeMax: 1024, wholeParams: 2 ** 18, budget: 2 ** 13, keepMin: 1024, cols: 32 };

/** The config of a model's probe: the same sampling, with no model kept whole beyond the budget. */
export function probeConfigOf(c: FingerprintConfig): FingerprintConfig {
  return { ...c, wholeParams: 0 };
}

/** The kept fraction of a model with `params` parameters (see above). */
export function keepRateFor(c: FingerprintConfig, params: number): number {
  if (params <= Math.max(c.budget, c.wholeParams)) return 1;
  return 2 ** -Math.ceil(Math.log2(params / c.budget));
}

export function checkConfig(c: FingerprintConfig): FingerprintConfig {
  const ok = Number.isSafeInteger(c.seed) && c.seed >= 0 && Number.isSafeInteger(c.wholeMax) && c.wholeMax >= 0 &&
    Number.isSafeInteger(c.wholeParams) && c.wholeParams >= 0 &&
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

/**
 * Which columns of the sampled rows are kept: 'all' (the tensor is kept whole or its rows are no
 * longer than `cols`: `cols` lists every column once, shared by all rows) or 'per-row' (`cols`
 * holds rows.length × nCols indices, row-major, each row's ascending).
 */
export type ColMode = 'all' | 'per-row';

export interface TensorSample {
  /** Rate at which rows were sampled (1: every row). */
  rowRate: number;
  rows: Uint32Array;
  colMode: ColMode;
  /** Columns kept per row. */
  nCols: number;
  cols: Uint32Array;
}

/** The kept columns of the i-th sampled row (a view, no copy). */
export function colsOfRow(s: { colMode: ColMode; nCols: number; cols: Uint32Array }, i: number): Uint32Array {
  return s.colMode === 'all' ? s.cols : s.cols.subarray(i * s.nCols, (i + 1) * s.nCols);
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Values a sampled tensor aims to keep: its share of the model's kept fraction, at least keepMin. */
function keepOf(c: FingerprintConfig, shape: number[], keepRate: number): { bucket: number; keep: number } {
  const { rows, rowLen } = shapeView(shape);
  const bucket = nextPow2(rows);
  return { bucket, keep: Math.max(c.keepMin, bucket * rowLen * keepRate) };
}

/**
 * Columns kept per sampled row: every column when the tensor is kept whole (or the model is,
 * or rows are no longer than `cols`); else `cols`, or more when even every row at `cols`
 * columns would keep less than the tensor's share (an mnist-fc fc1 of 64 × 784 at a kept
 * fraction of 1/8: 98 columns of each row, not 32, which kept 1/24). A row that would keep more
 * than half its columns keeps all of them (at most twice its share).
 */
export function colsPerRowOf(c: FingerprintConfig, shape: number[], keepRate: number): number {
  const { rows, rowLen } = shapeView(shape);
  if (rows * rowLen <= c.wholeMax || keepRate >= 1 || rowLen <= c.cols) return rowLen;
  const { bucket, keep } = keepOf(c, shape, keepRate);
  const k = Math.max(c.cols, Math.ceil(keep / bucket));
  return 2 * k > rowLen ? rowLen : k;
}

/**
 * The row rate of a tensor: 1 when kept whole, else from the rounded-up row count; a tensor
 * that would sample more than half its rows samples all of them (at most twice its share, as
 * for columns). Reading every row then costs less than twice the sampled read, and buys
 * Σ(x − r)² exact over the tensor (the reader sums it over whole rows): mnist-cnn's conv2
 * (16 rows of 72) sampled 14 rows, and the estimate of its Σ(x − r)² from those cost the
 * k-means methods 4 of 8 edges on a seed (eval:index-noise).
 */
export function rowRateOf(c: FingerprintConfig, shape: number[], keepRate: number): number {
  const { rows, rowLen } = shapeView(shape);
  if (rows * rowLen <= c.wholeMax || keepRate >= 1) return 1;
  const { bucket, keep } = keepOf(c, shape, keepRate);
  const rate = Math.min(1, Math.ceil(keep / colsPerRowOf(c, shape, keepRate)) / bucket);
  return rate > 0.5 ? 1 : rate;
}

/** The hash key of row r's column draws. */
export function rowColumnKey(colKey: number, r: number): number {
  return fmix32((colKey ^ fmix32((r + 0x7f4a7c15) >>> 0)) >>> 0);
}

/**
 * Writes the `k` kept columns of row `r` (ascending) to out[at..at+k): a simple random sample
 * without replacement of [0, rowLen), the first k distinct values of the hash sequence
 * ⌊u(key, j) · rowLen⌋, j = 0, 1, …, with key a hash of (colKey, r). So a row keeping fewer
 * columns keeps a subset of what it keeps with more. Needs 2k ≤ rowLen (the sampler keeps
 * whole rows beyond that, and the decoder refuses more), so fewer than 1.4k draws are expected.
 */
export function rowColumns(colKey: number, r: number, rowLen: number, k: number, out: Uint32Array, at: number): void {
  if (2 * k > rowLen) throw new InvalidArgumentError('E_INVALID_ARG', `per-row columns: ${k} of ${rowLen} is more than half`);
  const key = rowColumnKey(colKey, r);
  const mine = out.subarray(at, at + k);
  if (k <= 64) {
    // Insertion into the sorted prefix: no allocation for the common k.
    let n = 0;
    for (let j = 0; n < k; j++) {
      const c = Math.floor(unitHash(key, j) * rowLen);
      let i = n;
      while (i > 0 && mine[i - 1] > c) i--;
      if (i > 0 && mine[i - 1] === c) continue;
      mine.copyWithin(i + 1, i, n);
      mine[i] = c;
      n++;
    }
    return;
  }
  const seen = new Set<number>();
  for (let j = 0; seen.size < k; j++) seen.add(Math.floor(unitHash(key, j) * rowLen));
  mine.set(Array.from(seen));
  mine.sort();
}

/** The kept columns of a tensor's sampled rows (see TensorSample). */
export function colsOf(c: FingerprintConfig, name: string, shape: number[], keepRate: number, rows: Uint32Array): { colMode: ColMode; nCols: number; cols: Uint32Array } {
  const { rowLen } = shapeView(shape);
  const k = colsPerRowOf(c, shape, keepRate);
  if (k === rowLen) return { colMode: 'all', nCols: rowLen, cols: Uint32Array.from({ length: rowLen }, (_, i) => i) };
  return { colMode: 'per-row', nCols: k, cols: perRowColumns(c.seed, name, shape, k, rows) };
}

/** Per-row columns of the given rows (rows.length × k, row-major); depends on seed, name, trailing shape, k and the rows only. */
export function perRowColumns(seed: number, name: string, shape: number[], k: number, rows: Uint32Array): Uint32Array {
  const { rowLen } = shapeView(shape);
  const { colKey } = sampleKeys(seed, name, shape);
  const out = new Uint32Array(rows.length * k);
  for (let i = 0; i < rows.length; i++) rowColumns(colKey, rows[i], rowLen, k, out, i * k);
  return out;
}

const columnCache = new Map<string, { rows: Uint32Array; cols: Uint32Array }>();

/**
 * perRowColumns, remembered per tensor for the last rows asked for: decoding the records of an
 * index derives the same columns for every model of an architecture.
 */
export function perRowColumnsCached(seed: number, name: string, shape: number[], k: number, rows: Uint32Array): Uint32Array {
  const key = JSON.stringify([seed, name, shape.length, shape.slice(1), k]);
  const hit = columnCache.get(key);
  if (hit && hit.rows.length === rows.length && hit.rows.every((r, i) => r === rows[i])) return hit.cols;
  if (columnCache.size > 100000) columnCache.clear();
  const cols = perRowColumns(seed, name, shape, k, rows);
  columnCache.set(key, { rows: rows.slice(), cols });
  return cols;
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
  const picked = rowsBelow(rowKey, rowRate, rows);
  return { rowRate, rows: picked, ...colsOf(c, name, shape, keepRate, picked) };
}
