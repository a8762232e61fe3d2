/**
 * A model's fingerprint: for every float tensor, a fixed sample of rows (lib/hub/sample.ts)
 * read natively with positional reads of just those rows, keeping the values of each row's own
 * sampled columns and the exact moments of every element read, plus Σ(x − r)² against the fake initialization
 * over the kept values (and over the whole tensor when every row was read). Everything the learning-free methods need is estimated from it
 * (lib/hub/estimate.ts): squared differences exactly on the kept coordinates, then scaled.
 */
import { fromNative, InvalidArgumentError } from '../errors';
import { defaultFakeInit } from '../scan/default-init';
import { fakeInitParams, parseFakeInitSpec, resolveFakeInit, siblingWeightName } from '../scan/fake-init';
import type { ModelSource, TensorEntry } from '../io/types';
import type { FakeInitParams } from '../scan/philox';
import { native } from '../native';
import { checkConfig, ColMode, DEFAULT_FINGERPRINT_CONFIG, FingerprintConfig, keepRateFor, sampleTensor, shapeView } from './sample';
import { readFormedTensor } from './formed-rows';
import { rowLayoutOf } from './row-layout';

export interface FingerprintTensor {
  name: string;
  dtype: string;
  shape: number[];
  rowRate: number;
  rows: Uint32Array;
  /** 'all': `cols` lists every column, for every row; 'per-row': rows.length × nCols indices (sample.ts). */
  colMode: ColMode;
  nCols: number;
  cols: Uint32Array;
  /** rows.length × nCols kept values, row-major. */
  values: Float32Array;
  /** Σx, Σx², Σx³, Σx⁴ over every element of the sampled rows. */
  moments: [number, number, number, number];
  /** Σ(x − r)² over the kept values, r the fake initialization at their positions. */
  fakeInitSq: number;
  /**
   * Σ(x − r)² over every element of the tensor, present when every row was sampled (each
   * sampled row is read whole, so the whole tensor was in hand): then exact.
   */
  fakeInitWholeSq?: number;
}

export interface Fingerprint {
  config: FingerprintConfig;
  /** The fake-init spec r was drawn from. */
  fakeInit: string;
  tensors: FingerprintTensor[];
  /** Tensors left out (not float, or not readable in place), with the reason. */
  skipped: { tensor: string; reason: string }[];
  params: number;
  bytes: number;
  /** What reading it cost. */
  bytesRead: number;
  reads: number;
  /** A PEFT adapter's base (its path when indexed) and rank: the edge detection reads from the file, as for a scan. */
  adapter?: { basePath: string; rank: number };
}

export interface FingerprintOptions {
  config?: FingerprintConfig;
  /** Fake-init spec (default: as the scan chooses for this model alone). */
  fakeInit?: string;
}

/** Tensors a fingerprint can read, and why the others are left out. */
function readable(t: TensorEntry): string | undefined {
  if (t.unreadable !== undefined) return t.unreadable;
  if (rowLayoutOf(t) === undefined) return `dtype ${t.dtype} has no fingerprint row reader`;
  const { rows, rowLen } = shapeView(t.shape);
  if (rows === 0 || rowLen === 0) return 'empty tensor';
  if (rows >= 2 ** 32 || rowLen >= 2 ** 32) return 'dimension too large for a fingerprint';
  return undefined;
}

export interface NativeFingerprintOutput {
  values: Float32Array;
  moments: Float64Array;
  /** Per tensor, Σ(x − r)² over its kept values (0 for a tensor planned without `fake`). */
  fakeSq: Float64Array;
  /** Per tensor, Σ(x − r)² over all its elements when every row was sampled and `fake` given; NaN otherwise. */
  fakeWholeSq: Float64Array;
  bytesRead: number;
  reads: number;
  seconds: number;
}

/** A tensor's fake initialization as the addon takes it (lib/scan/philox.ts). */
export type NativeFakeInitParams = FakeInitParams;

export interface NativeFingerprintPlan {
  files: string[];
  coalesceBytes?: number;
  /** Tensors read at once (default: the addon's, a few per core). */
  threads?: number;
  /**
   * cols: the kept columns, shared by every row (colsPerRow false or absent), or rows.length ×
   * k indices, row-major, each row's ascending (colsPerRow true).
   */
  tensors: {
    file: number; offset: number; dtype: string; totalRows: number; rowLen: number; rows: Uint32Array; cols: Uint32Array; colsPerRow?: boolean;
    /** r of Σ(x − r)² over the kept values, and over every element when every row is sampled (element index row · rowLen + column). */
    fake?: NativeFakeInitParams;
  }[];
}

/**
 * The addon's reader; a clear error when the build predates it. Every failure is a rejection
 * (the addon refuses a malformed plan synchronously, a bad file from its worker).
 */
export async function nativeReadFingerprint(plan: NativeFingerprintPlan): Promise<NativeFingerprintOutput> {
  const addon = native() as unknown as { readFingerprint?: (p: NativeFingerprintPlan) => Promise<NativeFingerprintOutput> };
  if (typeof addon.readFingerprint !== 'function') {
    throw new InvalidArgumentError('E_INVALID_ARG', 'the native addon has no readFingerprint; rebuild it with `npm run build:native`');
  }
  try {
    return await addon.readFingerprint(plan);
  } catch (e) {
    throw fromNative(e);
  }
}

/** The fake initialization of one of a model's tensors, as the scan resolves it. */
function fakeParams(spec: ReturnType<typeof parseFakeInitSpec>, seed: number, model: ModelSource, t: TensorEntry): NativeFakeInitParams {
  const sibling = siblingWeightName(t.name);
  const siblingShape = sibling === undefined ? undefined : model.tensors.find((x) => x.name === sibling)?.shape;
  const fi = resolveFakeInit(spec, t.name, { shape: t.shape, siblingWeightShape: siblingShape });
  return fakeInitParams(fi, seed, t.name);
}

/** The kept fraction of a model: by the parameters of the tensors a fingerprint can read. */
export function keepRateOfModel(model: ModelSource, config: FingerprintConfig): number {
  return keepRateFor(config, model.tensors.reduce((s, t) => s + (readable(t) === undefined ? shapeView(t.shape).rows * shapeView(t.shape).rowLen : 0), 0));
}

/**
 * The read plan of a model's tensors (exported for the float64 reference in tests); with a
 * fake-init spec the reader also sums Σ(x − r)² over the kept values.
 */
export function fingerprintPlan(model: ModelSource, config: FingerprintConfig, fakeInit?: string): {
  /** The dense tensors, for the native reader. */
  plan: NativeFingerprintPlan;
  /** Every fingerprinted tensor, in name order; `dense[i]` is its index in plan.tensors, or −1 when it is formed. */
  entries: TensorEntry[];
  samples: ReturnType<typeof sampleTensor>[];
  dense: number[];
  /** r of each formed tensor's Σ(x − r)², by entry index. */
  formedFake: Map<number, NativeFakeInitParams | undefined>;
  skipped: { tensor: string; reason: string }[];
} {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const entries: TensorEntry[] = [];
  const samples: ReturnType<typeof sampleTensor>[] = [];
  const skipped: { tensor: string; reason: string }[] = [];
  const tensors: NativeFingerprintPlan['tensors'] = [];
  const dense: number[] = [];
  const formedFake = new Map<number, NativeFakeInitParams | undefined>();
  const spec = fakeInit === undefined ? undefined : parseFakeInitSpec(fakeInit);
  const sorted = [...model.tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const keepRate = keepRateOfModel(model, config);
  for (const t of sorted) {
    const why = readable(t);
    if (why !== undefined) {
      skipped.push({ tensor: t.name, reason: why });
      continue;
    }
    const s = sampleTensor(config, t.name, t.shape, keepRate);
    const { rows, rowLen } = shapeView(t.shape);
    entries.push(t);
    samples.push(s);
    if (rowLayoutOf(t) === 'formed') {
      dense.push(-1);
      formedFake.set(entries.length - 1, spec ? fakeParams(spec, config.seed, model, t) : undefined);
      continue;
    }
    let fi = fileIndex.get(t.file);
    if (fi === undefined) {
      fi = files.length;
      files.push(t.file);
      fileIndex.set(t.file, fi);
    }
    dense.push(tensors.length);
    tensors.push({
      file: fi, offset: t.offset, dtype: t.dtype, totalRows: rows, rowLen, rows: s.rows, cols: s.cols, colsPerRow: s.colMode === 'per-row',
      ...(spec ? { fake: fakeParams(spec, config.seed, model, t) } : {}),
    });
  }
  // Rows closer than 8 KiB are read in one call: a read costs about as much as 8 KiB of data,
  // and reading longer gaps would spend the read budget on rows nobody keeps.
  return { plan: { files, tensors, coalesceBytes: 8192 }, entries, samples, dense, formedFake, skipped };
}

type ReaderOutput = Pick<NativeFingerprintOutput, 'values' | 'moments' | 'fakeSq' | 'fakeWholeSq' | 'bytesRead' | 'reads'>;

/**
 * The native reader's output for the dense tensors, with the formed tensors' rows read
 * (lib/hub/formed-rows.ts) and everything put in entry order; the output itself when no tensor
 * is formed.
 */
export function withFormed(planned: ReturnType<typeof fingerprintPlan>, out: ReaderOutput): ReaderOutput {
  if (planned.formedFake.size === 0) return out;
  const n = planned.entries.length;
  const denseAt: number[] = [];
  let acc = 0;
  planned.plan.tensors.forEach((t) => {
    denseAt.push(acc);
    acc += t.rows.length * (t.colsPerRow ? (t.rows.length ? t.cols.length / t.rows.length : 0) : t.cols.length);
  });
  const parts: Float32Array[] = [];
  const merged: ReaderOutput = { values: new Float32Array(0), moments: new Float64Array(4 * n), fakeSq: new Float64Array(n), fakeWholeSq: new Float64Array(n), bytesRead: out.bytesRead, reads: out.reads };
  planned.entries.forEach((e, i) => {
    const d = planned.dense[i];
    const s = planned.samples[i];
    if (d >= 0) {
      parts.push(out.values.subarray(denseAt[d], denseAt[d] + s.rows.length * s.nCols));
      merged.moments.set(out.moments.subarray(4 * d, 4 * d + 4), 4 * i);
      merged.fakeSq[i] = out.fakeSq[d];
      merged.fakeWholeSq[i] = out.fakeWholeSq[d];
      return;
    }
    const f = readFormedTensor(e, s, planned.formedFake.get(i));
    parts.push(f.values);
    merged.moments.set(f.moments, 4 * i);
    merged.fakeSq[i] = f.fakeSq;
    merged.fakeWholeSq[i] = f.fakeWholeSq;
    merged.bytesRead += f.bytesRead;
    merged.reads += s.rows.length;
  });
  merged.values = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    merged.values.set(p, at);
    at += p.length;
  }
  return merged;
}

/** Assembles a fingerprint from a plan's native (or reference) output. */
export function assembleFingerprint(
  model: ModelSource,
  config: FingerprintConfig,
  fakeInit: string,
  planned: ReturnType<typeof fingerprintPlan>,
  out: ReaderOutput,
): Fingerprint {
  let at = 0;
  const tensors = planned.entries.map((e, i) => {
    const s = planned.samples[i];
    const n = s.rows.length * s.nCols;
    const t: FingerprintTensor = {
      name: e.name,
      dtype: e.dtype,
      shape: e.shape.slice(),
      rowRate: s.rowRate,
      rows: s.rows,
      colMode: s.colMode,
      nCols: s.nCols,
      cols: s.cols,
      values: out.values.slice(at, at + n),
      moments: [out.moments[4 * i], out.moments[4 * i + 1], out.moments[4 * i + 2], out.moments[4 * i + 3]],
      fakeInitSq: out.fakeSq[i],
      ...(Number.isNaN(out.fakeWholeSq[i]) ? {} : { fakeInitWholeSq: out.fakeWholeSq[i] }),
    };
    at += n;
    return t;
  });
  return {
    config,
    fakeInit,
    tensors,
    skipped: planned.skipped,
    params: model.params,
    bytes: model.bytes,
    bytesRead: out.bytesRead,
    reads: out.reads,
  };
}

/** Reads the fingerprint of one opened model. */
export async function fingerprintModel(model: ModelSource, opts: FingerprintOptions = {}): Promise<Fingerprint> {
  const config = checkConfig(opts.config ?? DEFAULT_FINGERPRINT_CONFIG);
  const fakeInit = opts.fakeInit ?? defaultFakeInit({ models: [model], warnings: [] }).spec;
  parseFakeInitSpec(fakeInit);
  const planned = fingerprintPlan(model, config, fakeInit);
  const none: ReaderOutput = { values: new Float32Array(0), moments: new Float64Array(0), fakeSq: new Float64Array(0), fakeWholeSq: new Float64Array(0), bytesRead: 0, reads: 0 };
  const out = planned.plan.tensors.length ? await nativeReadFingerprint(planned.plan) : none;
  return assembleFingerprint(model, config, fakeInit, planned, withFormed(planned, out));
}
