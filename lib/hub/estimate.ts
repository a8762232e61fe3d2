/**
 * From fingerprints to the statistics of a scan (a ScanResult), so every detection method runs
 * on an index unchanged. Tensors are aligned exactly as the scan aligns them (lib/scan/align:
 * by name and shape, row prefixes for resized vocabularies). Within a group, the compared
 * coordinates are the sampled rows of the common row prefix at the lowest row rate of the
 * members (every member has them: samples are nested) and, in each row, the columns all
 * members kept of it (each row keeps columns of its own, the same in every model); the
 * Gram entries are exact sums over those coordinates, scaled by count / coordinates, so a
 * squared difference is the exact squared difference on the sample, scaled. Per-model sums
 * (moments, Σ(x − r)²) are scaled the same way from each model's own sample; a tensor kept
 * whole gives exact statistics. Σ(x − r)² is exact where every row was sampled, else estimated
 * from Σx² over the whole sampled rows (fakeInitEstimate below says why).
 */
import { alignModels } from '../scan/align';
import { isFloatDtype } from '../io/dtype';
import { fakeInitParams, parseFakeInitSpec, resolveFakeInit } from '../scan/fake-init';
import type { ModelSource } from '../io/types';
import type { ScanResult, ScanTensor, SkippedTensor } from '../scan/types';
import type { Fingerprint, FingerprintTensor } from './fingerprint';
import { colsOfRow, shapeView } from './sample';
import { initSecondMoment } from '../detect/scores';
import { fakeInitValue } from '../scan/philox';

export interface IndexedModel {
  id: string;
  path: string;
  fingerprint: Fingerprint;
}

/** Positions in `a` (ascending) of the values of `want` (ascending, all present in `a`). */
function positions(a: Uint32Array, want: Uint32Array): Int32Array | undefined {
  const out = new Int32Array(want.length);
  let i = 0;
  for (let k = 0; k < want.length; k++) {
    while (i < a.length && a[i] < want[k]) i++;
    if (i >= a.length || a[i] !== want[k]) return undefined;
    out[k] = i;
  }
  return out;
}

function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a === b) return a;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]);
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return Uint32Array.from(out);
}

/** Same length and elements (the common case: every member derived the same columns). */
function sameList(a: Uint32Array, b: Uint32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The compared coordinates of one group's members, gathered as float32 vectors (one per
 * member; views of the kept values where every member kept the same ones, so nothing is
 * copied — widening to float64 here was a query's largest cost once small models were kept
 * whole, and gains nothing: a product of two float32 values is exact in float64, where the
 * Gram sums): the sampled rows of the common prefix at the lowest row rate (every member has them)
 * and, in each such row, the columns every member kept of it. Members sampled alike keep the
 * same columns of a row (sample.ts); a member kept whole keeps all of them.
 */
export function gatherGroup(members: FingerprintTensor[], rowsCompared: number): { coords: Float32Array[]; rows: number; coordinates: number } {
  // The usual group (one architecture, one kept fraction): every member sampled the same rows
  // and columns, so the compared values are a prefix of each member's, in the same order. The
  // per-row intersection below gives the same coordinates; this skips its bookkeeping, which
  // made a query's estimate twice as slow.
  const m0 = members[0];
  if (members.every((m) => m.colMode === m0.colMode && m.nCols === m0.nCols && sameList(m.rows, m0.rows) && sameList(m.cols, m0.cols))) {
    let n = 0;
    while (n < m0.rows.length && m0.rows[n] < rowsCompared) n++;
    const total = n * m0.nCols;
    return { coords: members.map((m) => m.values.subarray(0, total)), rows: n, coordinates: total };
  }
  let low = members[0];
  for (const m of members) if (m.rowRate < low.rowRate) low = m;
  const rows = low.rows.filter((r) => r < rowsCompared);
  const rowPos = members.map((m) => positions(m.rows, rows));
  if (rowPos.some((p) => p === undefined)) return { coords: members.map(() => new Float32Array(0)), rows: 0, coordinates: 0 };
  // Per compared row: the shared columns, and each member's positions of them in its row.
  const rowCols: Uint32Array[] = [];
  const colPos: Int32Array[][] = members.map(() => []);
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const own = members.map((m, mi) => colsOfRow(m, rowPos[mi]![i]));
    let cols = own[0];
    for (const c of own.slice(1)) cols = intersect(cols, c);
    rowCols.push(cols);
    members.forEach((_, mi) => {
      // Identical lists (the usual case) need no search.
      colPos[mi].push(sameList(own[mi], cols) ? firstN(cols.length) : positions(own[mi], cols)!);
    });
    total += cols.length;
  }
  const coords = members.map((m, mi) => {
    const out = new Float32Array(total);
    let k = 0;
    const rp = rowPos[mi]!;
    for (let i = 0; i < rows.length; i++) {
      const base = rp[i] * m.nCols;
      for (const c of colPos[mi][i]) out[k++] = m.values[base + c];
    }
    return out;
  });
  return { coords, rows: rows.length, coordinates: total };
}

let identity = new Int32Array(0);
/** 0, 1, …, n − 1 (a shared view: never written to). */
function firstN(n: number): Int32Array {
  if (identity.length < n) identity = Int32Array.from({ length: Math.max(n, 2 * identity.length) }, (_, i) => i);
  return identity.subarray(0, n);
}

/**
 * scale·⟨coords[a], coords[b]⟩ for the pairs asked for: 'all', or 'first-row' (the first model
 * with each model, and the diagonal; the rest NaN), which is all a query needs from its
 * candidates. Four dot products share one pass over `a`; each is still summed in index order,
 * so every entry is the same number as a plain loop gives.
 */
function gramOf(coords: Float32Array[], scale: number, pairs: 'all' | 'first-row'): number[][] {
  const k = coords.length;
  const gram: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(pairs === 'all' ? 0 : NaN));
  const set = (a: number, b: number, v: number) => {
    gram[a][b] = scale * v;
    gram[b][a] = scale * v;
  };
  for (let a = 0; a < k; a++) {
    const x = coords[a];
    const len = x.length;
    const bs = pairs === 'all' ? Array.from({ length: k - a }, (_, i) => a + i) : a === 0 ? Array.from({ length: k }, (_, i) => i) : [a];
    let i = 0;
    for (; i + 4 <= bs.length; i += 4) {
      const y0 = coords[bs[i]];
      const y1 = coords[bs[i + 1]];
      const y2 = coords[bs[i + 2]];
      const y3 = coords[bs[i + 3]];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let e = 0; e < len; e++) {
        const v = x[e];
        s0 += v * y0[e];
        s1 += v * y1[e];
        s2 += v * y2[e];
        s3 += v * y3[e];
      }
      set(a, bs[i], s0);
      set(a, bs[i + 1], s1);
      set(a, bs[i + 2], s2);
      set(a, bs[i + 3], s3);
    }
    for (; i < bs.length; i++) {
      const y = coords[bs[i]];
      let s0 = 0;
      for (let e = 0; e < len; e++) s0 += x[e] * y[e];
      set(a, bs[i], s0);
    }
  }
  return gram;
}

/**
 * Σ(x − r)² over the tensor, estimated as Σx² + Σr² − 2Σxr. The fingerprint holds Σ(x − r)²
 * over the kept values only (sampled rows × `cols` columns), but Σx² is known over the whole
 * sampled rows (moments[1]): 24× more elements for an mnist-fc layer, and Σx² carries what
 * tells a parent from its child (the change of the weights' norm). Σr² is the same for every
 * model with the tensor: its expectation, count · E[r²]. The cross term has expectation 0 (r is
 * a seeded draw independent of the weights) and is left out: its realised value is of order
 * √count · σx · σr, while estimating it from the kept values would add noise √(count / kept)
 * times larger. On the mnist-fc zoos the kept-values estimate ordered parents and children
 * wrongly often enough to cost the k-means methods (which make a cluster's lowest score its
 * parent) 4 points on their own. A tensor kept whole keeps its exact value, and so does one
 * whose every row was sampled (the reader sums Σ(x − r)² over each whole row it reads): with the
 * cross term left out, mnist-fc's fc1 (every row sampled, 1/8 of the columns kept) still
 * ordered one parent–child pair of seed 4 wrongly for the default method (eval:index-noise).
 */
function fakeInitEstimate(t: FingerprintTensor, count: number, fake: ScanTensor['fakeInit']): number {
  const { rowLen } = shapeView(t.shape);
  const kept = t.values.length;
  const own = t.rows.length * rowLen;
  if (kept === own) return t.fakeInitSq * (count / kept);
  if (t.fakeInitWholeSq !== undefined) return t.fakeInitWholeSq * (count / own);
  return t.moments[1] * (count / own) + count * initSecondMoment({ fakeInit: fake });
}

/**
 * A member with more rows than the group compares (a resized vocabulary: the scan compares the
 * common row prefix) must not have its statistics scaled from all its rows, whose added rows
 * are newly initialised and unlike the rest (tiny-llama's 320-row child: Σx² of its 256 compared
 * rows was overstated by 24%). Its statistics come from its kept values in the prefix instead:
 * exact when the tensor was kept whole (the fake initialization redrawn at each position, as the
 * scan draws it), else scaled from those values, with Σ(x − r)² from Σx² as fakeInitEstimate
 * does. Undefined when the member has no more rows than are compared.
 */
function prefixStats(
  f: FingerprintTensor,
  rowsCompared: number,
  count: number,
  fake: ScanTensor['fakeInit'],
  seed: number,
  name: string,
): { moments: [number, number, number, number]; fakeInitSq: number } | undefined {
  const { rows, rowLen } = shapeView(f.shape);
  if (rows <= rowsCompared) return undefined;
  const whole = f.colMode === 'all' && f.nCols === rowLen && f.rows.length === rows;
  const m: [number, number, number, number] = [0, 0, 0, 0];
  let kept = 0;
  let fakeSq = 0;
  const p = whole ? fakeInitParams(fake, seed, name) : undefined;
  for (let i = 0; i < f.rows.length && f.rows[i] < rowsCompared; i++) {
    const cols = colsOfRow(f, i);
    for (let k = 0; k < cols.length; k++) {
      const x = f.values[i * f.nCols + k];
      const x2 = x * x;
      m[0] += x;
      m[1] += x2;
      m[2] += x2 * x;
      m[3] += x2 * x2;
      if (p) {
        const d = x - fakeInitValue(p, f.rows[i] * rowLen + cols[k]);
        fakeSq += d * d;
      }
    }
    kept += cols.length;
  }
  if (kept === 0) return undefined;
  const scale = count / kept;
  const moments = m.map((v) => v * scale) as [number, number, number, number];
  return { moments, fakeInitSq: p ? fakeSq : moments[1] + count * initSecondMoment({ fakeInit: fake }) };
}

export interface EstimateOptions {
  include?: string[];
  exclude?: string[];
  /** Gram entries computed: 'all' (default), or 'first-row' (the first model with every model, and the diagonal; others NaN). */
  gram?: 'all' | 'first-row';
}

/** The estimated scan of the given models (their fingerprints must share one config). */
export function estimateScan(models: IndexedModel[], opts: EstimateOptions = {}): ScanResult {
  const started = process.hrtime.bigint();
  const byName = models.map((m) => new Map(m.fingerprint.tensors.map((t) => [t.name, t])));
  const sources: ModelSource[] = models.map((m) => ({
    id: m.id,
    path: m.path,
    format: 'file',
    files: [],
    // Every fingerprinted tensor was read as floats (GGUF blocks dequantized, packed weights
    // unpacked: lib/hub/formed-rows.ts), so alignment must not leave a block dtype out; the
    // statistics keep the stored dtype (t.dtypes below), which quantized-copy typing reads.
    tensors: m.fingerprint.tensors.map((t) => ({ name: t.name, dtype: isFloatDtype(t.dtype) ? t.dtype : 'F32', shape: t.shape, file: m.path, offset: 0, byteLength: 0 })),
    bytes: m.fingerprint.bytes,
    params: m.fingerprint.params,
  }));
  const { groups, skipped } = alignModels(sources, { include: opts.include, exclude: opts.exclude, skipNonFloat: true });
  const specs = [...new Set(models.map((m) => m.fingerprint.fakeInit))];
  const rules = parseFakeInitSpec(specs[0] ?? 'auto');
  const tensors: ScanTensor[] = [];
  const left: SkippedTensor[] = [...skipped];
  for (const g of groups) {
    const fts = g.members.map((m) => byName[m.model].get(g.name)!);
    const rowsCompared = g.shape.length === 0 ? 1 : g.shape[0];
    const { coords, rows, coordinates } = gatherGroup(fts, rowsCompared);
    if (rows === 0 || coordinates === 0) {
      for (const m of g.members) left.push({ model: models[m.model].id, tensor: g.name, reason: 'no sampled coordinates in common with the other models' });
      continue;
    }
    const scale = g.count / coordinates;
    const gram = gramOf(coords, scale, opts.gram ?? 'all');
    const own = (t: FingerprintTensor) => g.count / (t.rows.length * shapeView(t.shape).rowLen);
    const t: ScanTensor = {
      name: g.name,
      shape: g.shape,
      models: g.members.map((m) => m.model),
      dtypes: fts.map((f) => f.dtype),
      count: g.count,
      fakeInit: resolveFakeInit(rules, g.name, { shape: g.fullShape, siblingWeightShape: g.siblingWeightShape }),
      sum: fts.map((f) => f.moments[0] * own(f)),
      sumSq: fts.map((f) => f.moments[1] * own(f)),
      sumCube: fts.map((f) => f.moments[2] * own(f)),
      sumQuad: fts.map((f) => f.moments[3] * own(f)),
      fakeInitSq: [],
      gram,
    };
    t.fakeInitSq = fts.map((f) => fakeInitEstimate(f, g.count, t.fakeInit));
    if (g.rowPrefix) {
      t.rowPrefix = g.rowPrefix;
      const seed = models[0].fingerprint.config.seed;
      fts.forEach((f, i) => {
        const p = prefixStats(f, rowsCompared, g.count, t.fakeInit, seed, g.name);
        if (p === undefined) return;
        [t.sum[i], t.sumSq[i], t.sumCube[i], t.sumQuad[i]] = p.moments;
        t.fakeInitSq[i] = p.fakeInitSq;
      });
    }
    tensors.push(t);
  }
  return {
    format: 'neural-phylogeny/scan',
    version: 1,
    // An adapter's edge to its base is read from its files, as in a scan, when the base is here.
    models: models.map((m) => {
      const base = m.fingerprint.adapter && models.find((b) => b.path === m.fingerprint.adapter!.basePath);
      return { id: m.id, path: m.path, params: m.fingerprint.params, bytes: m.fingerprint.bytes, ...(base ? { adapter: { base: base.id, rank: m.fingerprint.adapter!.rank } } : {}) };
    }),
    seed: models[0]?.fingerprint.config.seed ?? 0,
    fakeInit: specs.length === 1 ? specs[0] : specs.join(' | '),
    tensors,
    skipped: left,
    run: {
      backend: 'cpu',
      device: 'fingerprint index',
      isa: 'fingerprint estimate',
      threads: 1,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      bytes: models.reduce((s, m) => s + m.fingerprint.bytesRead, 0),
    },
  };
}
