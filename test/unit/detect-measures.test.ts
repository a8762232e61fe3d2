import { computeScores, tensorKurtosis, initSecondMoment } from '../../lib/detect/scores';
import { computeDistances } from '../../lib/detect/distances';
import { weightCorrelation, gateDistances } from '../../lib/detect/relatedness';
import { findDuplicates } from '../../lib/detect/duplicates';
import { selectTensors, comparedParams } from '../../lib/detect/select';
import { createRng } from '../../lib/graph/rng';
import { buildScan, fakeInitValues, gaussian, type SynthModel } from '../helpers/synthetic-scan';
import type { ScanTensor } from '../../lib/scan/types';

const rng = createRng(99);
const vec = (n: number, scale = 1, offset = 0) => Float64Array.from({ length: n }, () => Math.fround(offset + scale * gaussian(rng)));

// Three models; C lacks 'b' and has an extra 'c'.
const models: SynthModel[] = [
  { id: 'A', tensors: { w: vec(60), b: vec(8, 0.1) } },
  { id: 'B', tensors: { w: vec(60, 1.5), b: vec(8, 0.3) } },
  { id: 'C', tensors: { w: vec(60, 0.7, 0.2), c: vec(5) } },
];
const shapes = { w: [6, 10], b: [8], c: [5] };
const scan = buildScan(models, { shapes, seed: 4 });
const T = (name: string) => scan.tensors.find((t) => t.name === name)!;
const data = (m: number, name: string) => Array.from(models[m].tensors[name] as Float64Array);
const sq = (a: number[]) => a.reduce((s, x) => s + x * x, 0);
const diff = (a: number[], b: number[]) => a.map((x, i) => x - b[i]);
const fake = (name: string) => Array.from(fakeInitValues(T(name).fakeInit, T(name).count, 4, name));

describe('direction scores', () => {
  const tensors = scan.tensors.filter((t) => t.name !== 'c');
  test('fake-init: raw sum of Σ(θ − r)² over the tensors a model has', () => {
    const s = computeScores(tensors, 3, { kind: 'fake-init', normalize: 'none', combine: 'sum', tensors: 'all' });
    expect(s[0]).toBeCloseTo(sq(diff(data(0, 'w'), fake('w'))) + sq(diff(data(0, 'b'), fake('b'))), 8);
    expect(s[2]).toBeCloseTo(sq(diff(data(2, 'w'), fake('w'))), 8);
  });

  test('normalisations and combinations', () => {
    const fw = sq(diff(data(1, 'w'), fake('w')));
    const fb = sq(diff(data(1, 'b'), fake('b')));
    const get = (normalize: 'per-element' | 'init' | 'mean-norm', combine: 'mean' | 'size-weighted') =>
      computeScores(tensors, 3, { kind: 'fake-init', normalize, combine, tensors: 'all' })[1];
    expect(get('per-element', 'mean')).toBeCloseTo((fw / 60 + fb / 8) / 2, 10);
    expect(get('per-element', 'size-weighted')).toBeCloseTo((fw + fb) / 68, 10);
    const ew = 60 * initSecondMoment(T('w'));
    const eb = 8 * initSecondMoment(T('b'));
    expect(initSecondMoment(T('w'))).toBeCloseTo(1 / 30, 12); // U(±1/√10): b²/3
    expect(get('init', 'mean')).toBeCloseTo((fw / ew + fb / eb) / 2, 10);
    const mw = (sq(data(0, 'w')) + sq(data(1, 'w')) + sq(data(2, 'w'))) / 3;
    const mb = (sq(data(0, 'b')) + sq(data(1, 'b'))) / 2;
    expect(get('mean-norm', 'mean')).toBeCloseTo((fw / mw + fb / mb) / 2, 10);
  });

  test('norm and the matrices-only option', () => {
    const s = computeScores(tensors, 3, { kind: 'norm', normalize: 'none', combine: 'sum', tensors: 'matrices' });
    expect(s[0]).toBeCloseTo(sq(data(0, 'w')), 8);
    const all = computeScores(tensors, 3, { kind: 'norm', normalize: 'none', combine: 'sum', tensors: 'all' });
    expect(all[0]).toBeCloseTo(sq(data(0, 'w')) + sq(data(0, 'b')), 8);
  });

  test('kurtosis from the four moments equals the direct value', () => {
    const x = data(2, 'w');
    const mu = x.reduce((a, b) => a + b, 0) / x.length;
    const m2 = x.reduce((a, v) => a + (v - mu) ** 2, 0) / x.length;
    const m4 = x.reduce((a, v) => a + (v - mu) ** 4, 0) / x.length;
    expect(tensorKurtosis(T('w'), 2)).toBeCloseTo(m4 / (m2 * m2), 9);
    const s = computeScores(tensors, 3, { kind: 'kurtosis', normalize: 'none', combine: 'mean', tensors: 'matrices' });
    expect(s[2]).toBeCloseTo(m4 / (m2 * m2), 9);
  });

  test('kurtosis is undefined for constant tensors', () => {
    const flat = buildScan([{ id: 'x', tensors: { g: new Float64Array(10).fill(1) } }]);
    expect(tensorKurtosis(flat.tensors[0], 0)).toBeNull();
    expect(computeScores(flat.tensors, 1, { kind: 'kurtosis', normalize: 'none', combine: 'mean', tensors: 'all' })[0]).toBeNaN();
  });
});

describe('distances from the Gram', () => {
  test('none/sum is the L2 distance over shared tensors; no shared tensor gives Infinity', () => {
    const d = computeDistances(scan.tensors, 3, { metric: 'euclidean', normalize: 'none', combine: 'sum' });
    expect(d[0][1]).toBeCloseTo(Math.sqrt(sq(diff(data(0, 'w'), data(1, 'w'))) + sq(diff(data(0, 'b'), data(1, 'b')))), 9);
    expect(d[0][2]).toBeCloseTo(Math.sqrt(sq(diff(data(0, 'w'), data(2, 'w')))), 9);
    expect(d[1][0]).toBe(d[0][1]);
    expect(d[2][2]).toBe(0);
    const onlyC = computeDistances([T('b'), T('c')], 3, { metric: 'euclidean', normalize: 'none', combine: 'sum' });
    expect(onlyC[0][2]).toBe(Infinity);
  });

  test('per-tensor normalisations and combinations', () => {
    const dw = sq(diff(data(0, 'w'), data(1, 'w')));
    const db = sq(diff(data(0, 'b'), data(1, 'b')));
    const at = (normalize: 'per-element' | 'relative' | 'rms', combine: 'mean' | 'size-weighted') =>
      computeDistances(scan.tensors, 3, { metric: 'euclidean', normalize, combine })[0][1];
    expect(at('per-element', 'mean')).toBeCloseTo(Math.sqrt((dw / 60 + db / 8) / 2), 10);
    expect(at('per-element', 'size-weighted')).toBeCloseTo(Math.sqrt((dw + db) / 68), 10);
    const rw = dw / ((sq(data(0, 'w')) + sq(data(1, 'w'))) / 2);
    const rb = db / ((sq(data(0, 'b')) + sq(data(1, 'b'))) / 2);
    expect(at('relative', 'mean')).toBeCloseTo(Math.sqrt((rw + rb) / 2), 10);
    expect(at('rms', 'mean')).toBeCloseTo((Math.sqrt(dw / 60) + Math.sqrt(db / 8)) / 2, 10);
  });

  test('cosine: per-tensor unit vectors', () => {
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / Math.sqrt(sq(a) * sq(b));
    const d = computeDistances(scan.tensors, 3, { metric: 'cosine', normalize: 'none', combine: 'mean' });
    const expected = Math.sqrt((2 - 2 * cos(data(0, 'w'), data(1, 'w')) + 2 - 2 * cos(data(0, 'b'), data(1, 'b'))) / 2);
    expect(d[0][1]).toBeCloseTo(expected, 10);
  });

  test('clamps the negative rounding of G_aa + G_bb − 2G_ab to zero', () => {
    const t: ScanTensor = { ...T('w'), models: [0, 1], gram: [[1, 1 + 1e-15], [1 + 1e-15, 1]] };
    expect(computeDistances([t], 2, { metric: 'euclidean', normalize: 'none', combine: 'sum' })[0][1]).toBe(0);
  });
});

describe('tensor selection', () => {
  test('include and exclude by regular expression; params count compared tensors', () => {
    expect(selectTensors(scan, ['^w$|^c$'], []).map((t) => t.name)).toEqual(['w', 'c']);
    expect(selectTensors(scan, [], ['^b']).map((t) => t.name)).toEqual(['w', 'c']);
    expect(comparedParams(scan.tensors, 3)).toEqual([68, 68, 60]);
  });
});

describe('relatedness', () => {
  const base = vec(400);
  const related: SynthModel[] = [
    { id: 'p', tensors: { w: base } },
    { id: 'child', tensors: { w: base.map((x) => Math.fround(x + 0.3 * gaussian(rng))) } },
    { id: 'other', tensors: { w: vec(400) } },
  ];
  const s = buildScan(related);
  test('pooled Pearson correlation equals the direct one', () => {
    const a = Array.from(related[0].tensors.w as Float64Array);
    const b = Array.from(related[1].tensors.w as Float64Array);
    const mean = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
    const ma = mean(a);
    const mb = mean(b);
    const cov = a.reduce((p, x, i) => p + (x - ma) * (b[i] - mb), 0);
    const rho = cov / Math.sqrt(a.reduce((p, x) => p + (x - ma) ** 2, 0) * b.reduce((p, x) => p + (x - mb) ** 2, 0));
    const c = weightCorrelation(s.tensors, 3);
    expect(c.rho[0][1]).toBeCloseTo(rho, 9);
    expect(c.elements[0][1]).toBe(400);
  });
  test('the gate cuts unrelated pairs only', () => {
    const d = computeDistances(s.tensors, 3, { metric: 'euclidean', normalize: 'none', combine: 'sum' });
    const g = gateDistances(d, weightCorrelation(s.tensors, 3), 0.1);
    expect(g[0][1]).toBe(d[0][1]);
    expect(g[0][2]).toBe(Infinity);
    expect(g[1][2]).toBe(Infinity);
    expect(gateDistances(d, weightCorrelation(s.tensors, 3), null)[0][2]).toBe(d[0][2]);
  });
});

describe('duplicates', () => {
  test('groups identical models, not near-identical ones or ones with other tensors', () => {
    const w = vec(50);
    const near = Float64Array.from(w);
    near[7] = Math.fround(near[7] + 1e-3);
    const ms: SynthModel[] = [
      { id: 'a', tensors: { w } },
      { id: 'b', tensors: { w: Float64Array.from(w) } },
      { id: 'c', tensors: { w: near } },
      { id: 'd', tensors: { w: Float64Array.from(w), extra: vec(3) } },
      { id: 'e', tensors: { w: Float64Array.from(w) } },
      { id: 'f', tensors: { w: Float64Array.from(w).reverse() } },
    ];
    const s = buildScan(ms);
    expect(findDuplicates(s.tensors, 6)).toEqual([[0, 1, 4]]);
  });
});
