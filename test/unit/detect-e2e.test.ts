import { detect, METHODS } from '../../lib/detect';
import type { MethodName } from '../../lib/detect/options';
import { evaluate } from '../../lib/eval/metrics';
import { isForest } from '../../lib/graph/components';
import { buildScan, gaussian, simulateZoo, type SynthModel } from '../helpers/synthetic-scan';
import { createRng } from '../../lib/graph/rng';
import type { DetectionResult } from '../../lib/detect/types';

// Enough elements that distances concentrate: siblings are then surely farther apart than
// parent and child, and the minimum spanning forest is the true tree.
const SHAPES = { 'l1.weight': [48, 64], 'l1.bias': [48], 'l2.weight': [24, 48], 'l2.bias': [24] };
const deep = simulateZoo({ families: 3, depth: 2, branching: [3, 2], seed: 7, shapes: SHAPES });
const stars = simulateZoo({ families: 3, depth: 1, branching: 4, seed: 8, shapes: SHAPES });

function edgeSet(r: DetectionResult): string[] {
  return r.edges.map((e) => `${e.parent}>${e.child}`).sort();
}
function truthSet(l: { edges: { parent: string; child: string }[] }): string[] {
  return l.edges.map((e) => `${e.parent}>${e.child}`).sort();
}
function sameFamilies(a: string[][], b: string[][]): boolean {
  const norm = (f: string[][]) => f.map((x) => [...x].sort().join(',')).sort().join('|');
  return norm(a) === norm(b);
}

describe('exact recovery on synthetic families with a direction signal', () => {
  test.each(['arborescence', 'spanning-forest', 'agglomerative', 'spectral', 'dbscan'] as MethodName[])('%s recovers a two-generation zoo', (method) => {
    const r = detect(deep.scan, { method });
    expect(edgeSet(r)).toEqual(truthSet(deep.lineage));
    expect(sameFamilies(r.families, deep.lineage.families)).toBe(true);
    expect(r.roots.sort()).toEqual(['f0', 'f1', 'f2']);
    const m = evaluate(r, deep.lineage);
    expect(m).toMatchObject({ edgeAccuracy: 1, precision: 1, recall: 1, f1: 1, directionAccuracy: 1, ari: 1 });
  });

  test.each(['kmeans-after', 'kmeans-along', ...(['arborescence', 'spanning-forest', 'agglomerative', 'spectral', 'dbscan'] as MethodName[])] as MethodName[])(
    '%s recovers parent-and-children families',
    (method) => {
      const r = detect(stars.scan, { method });
      expect(edgeSet(r)).toEqual(truthSet(stars.lineage));
      expect(evaluate(r, stars.lineage).ari).toBe(1);
    },
  );

  test('kmeans-after and kmeans-along with an explicit K, and with K found automatically', () => {
    for (const method of ['kmeans-after', 'kmeans-along'] as MethodName[]) {
      expect(detect(stars.scan, { method, k: 3 }).options.kValue).toBe(3);
      for (const autoK of ['silhouette', 'gap', 'components'] as const) {
        const r = detect(stars.scan, { method, autoK });
        expect(r.options.kValue).toBe(3);
        expect(edgeSet(r)).toEqual(truthSet(stars.lineage));
      }
    }
  });

  test('kmeans-after is a star per cluster: grandchildren hang on the root', () => {
    const r = detect(deep.scan, { method: 'kmeans-after' });
    expect(evaluate(r, deep.lineage).ari).toBe(1);
    // Every edge starts at a family root; the 9 root→child edges are right, the 18 others not.
    expect(new Set(r.edges.map((e) => e.parent))).toEqual(new Set(['f0', 'f1', 'f2']));
    expect(evaluate(r, deep.lineage).counts.correctEdges).toBe(9);
    // The same clusters organised as trees recover everything.
    expect(edgeSet(detect(deep.scan, { method: 'kmeans-after', within: 'tree' }))).toEqual(truthSet(deep.lineage));
  });

  test('every method returns a valid forest whose families partition the models', () => {
    for (const { name } of METHODS) {
      const r = detect(deep.scan, { method: name });
      const ids = r.models.map((m) => m.id);
      const index = new Map(ids.map((id, i) => [id, i]));
      const parent = ids.map(() => -1);
      for (const e of r.edges) {
        expect(parent[index.get(e.child)!]).toBe(-1);
        parent[index.get(e.child)!] = index.get(e.parent)!;
        expect(e.confidence).toBeGreaterThanOrEqual(0);
        expect(e.confidence).toBeLessThanOrEqual(1);
      }
      expect(isForest(parent)).toBe(true);
      expect(r.roots.sort()).toEqual(ids.filter((_, i) => parent[i] < 0).sort());
      expect(r.families.flat().sort()).toEqual([...ids].sort());
      expect(r.method).toBe(name);
    }
  });
});

describe('direction scores and their sign', () => {
  const normZoo = simulateZoo({ families: 3, depth: 1, branching: 4, seed: 9, shapes: SHAPES, monotone: 'norm' });

  test('norm score recovers a zoo whose norms grow', () => {
    expect(edgeSet(detect(normZoo.scan, { score: 'norm' }))).toEqual(truthSet(normZoo.lineage));
  });

  test('a reversed sign reverses every paired edge; auto finds the right sign from the tree shapes', () => {
    const rev = detect(normZoo.scan, { score: 'norm', scoreSign: -1, method: 'arborescence' });
    expect(evaluate(rev, normZoo.lineage).directionAccuracy).toBe(0);
    // Oriented as a whole, a reversed star roots at a leaf: one edge reversed, the rest right.
    const revTree = detect(normZoo.scan, { score: 'norm', scoreSign: -1, method: 'spanning-forest' });
    expect(evaluate(revTree, normZoo.lineage).directionAccuracy).toBe(0.75);
    const auto = detect(normZoo.scan, { score: 'norm', scoreSign: 'auto', method: 'spanning-forest' });
    expect(auto.options.scoreSignUsed).toBe(1);
    expect(edgeSet(auto)).toEqual(truthSet(normZoo.lineage));
  });

  test('scores are reported with the sign applied (lower = earlier)', () => {
    const r = detect(normZoo.scan, { score: 'norm', scoreSign: -1 });
    const plain = detect(normZoo.scan, { score: 'norm' });
    r.models.forEach((m, i) => expect(m.score).toBeCloseTo(-plain.models[i].score, 9));
  });

  test('kurtosis with auto sign orients trees where kurtosis rises with fine-tuning', () => {
    // Fine-tunes that add sparse large updates (outliers) raise kurtosis at every generation.
    const rng = createRng(5);
    const models: SynthModel[] = [];
    const lineage = { edges: [] as { parent: string; child: string }[], families: [] as string[][] };
    for (let f = 0; f < 2; f++) {
      const root = Float64Array.from({ length: 3000 }, () => Math.fround(gaussian(rng)));
      models.push({ id: `r${f}`, tensors: { w: root } });
      const fam = [`r${f}`];
      for (let c = 0; c < 3; c++) {
        const child = Float64Array.from(root, (x) => Math.fround(x + 0.05 * gaussian(rng) + (rng.next() < 0.01 ? 6 * gaussian(rng) : 0)));
        models.push({ id: `r${f}.${c}`, tensors: { w: child } });
        lineage.edges.push({ parent: `r${f}`, child: `r${f}.${c}` });
        fam.push(`r${f}.${c}`);
      }
      lineage.families.push(fam);
    }
    const scan = buildScan(models, { shapes: { w: [30, 100] } });
    for (const method of ['spanning-forest', 'arborescence', 'mother'] as MethodName[]) {
      const r = detect(scan, { method, score: 'kurtosis', scoreSign: method === 'mother' ? 1 : 'auto' });
      expect(edgeSet(r)).toEqual(truthSet(lineage));
    }
    // MoTHer with the sign reversed gets every direction wrong.
    expect(evaluate(detect(scan, { method: 'mother', scoreSign: -1 }), lineage).directionAccuracy).toBe(0);
  });
});

describe('options reach the algorithms', () => {
  test('cosine distance, Ward linkage, trees inside k-medoids clusters, gap-based τ on spanning-forest edges', () => {
    expect(edgeSet(detect(deep.scan, { method: 'spanning-forest', distance: 'cosine' }))).toEqual(truthSet(deep.lineage));
    expect(edgeSet(detect(deep.scan, { method: 'agglomerative', linkage: 'ward' }))).toEqual(truthSet(deep.lineage));
    expect(edgeSet(detect(deep.scan, { method: 'kmeans-along', within: 'tree' }))).toEqual(truthSet(deep.lineage));
    expect(edgeSet(detect(deep.scan, { method: 'spectral', within: 'arborescence' }))).toEqual(truthSet(deep.lineage));
    expect(edgeSet(detect(deep.scan, { tau: 'msf-gap' }))).toEqual(truthSet(deep.lineage));
  });

  test("scoreSign 'auto' on chains alone cannot decide: keeps +1 and says so", () => {
    const chains = simulateZoo({ families: 2, depth: 3, branching: 1, seed: 41, shapes: SHAPES });
    const r = detect(chains.scan, { method: 'spanning-forest', scoreSign: 'auto' });
    expect(r.options.scoreSignUsed).toBe(1);
    expect(r.warnings.some((w) => w.includes("scoreSign 'auto'"))).toBe(true);
    expect(edgeSet(r)).toEqual(truthSet(chains.lineage));
  });

  test('dbscan with an explicit eps; k is ignored with a warning', () => {
    const r = detect(deep.scan, { method: 'dbscan', eps: 1e-9, k: 3 });
    expect(r.edges).toEqual([]);
    expect(r.warnings.some((w) => w.includes('k ignored'))).toBe(true);
  });
});

describe('edge cases', () => {
  const rng = createRng(12);
  const vec = (n: number) => Float64Array.from({ length: n }, () => Math.fround(gaussian(rng)));

  test('a single model', () => {
    const scan = buildScan([{ id: 'solo', tensors: { w: vec(100) } }]);
    for (const { name } of METHODS) {
      const r = detect(scan, { method: name });
      expect(r.edges).toEqual([]);
      expect(r.roots).toEqual(['solo']);
      expect(r.families).toEqual([['solo']]);
      expect(r.distances).toEqual({ ids: ['solo'], matrix: [[0]] });
    }
  });

  test('no models', () => {
    const r = detect(buildScan([]));
    expect(r).toMatchObject({ edges: [], roots: [], families: [], duplicates: [] });
  });

  test('identical duplicates are reported and hang on the first copy at confidence 0.5', () => {
    const models = [...stars.models];
    const copyOf = stars.models[1];
    models.push({ id: 'copy-a', tensors: copyOf.tensors }, { id: 'copy-b', tensors: copyOf.tensors });
    const scan = buildScan(models, { shapes: stars.shapes });
    for (const { name } of METHODS) {
      const r = detect(scan, { method: name });
      expect(r.duplicates).toEqual([[copyOf.id, 'copy-a', 'copy-b']]);
      for (const id of ['copy-a', 'copy-b']) {
        const e = r.edges.find((x) => x.child === id)!;
        expect(e).toMatchObject({ parent: copyOf.id, confidence: 0.5, distance: 0 });
      }
      expect(r.warnings.some((w) => w.includes('identical'))).toBe(true);
      const rest = r.edges.filter((e) => !e.child.startsWith('copy'));
      if (name !== 'mother') expect(rest.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(truthSet(stars.lineage));
    }
  });

  test('models with no tensor in common are separate families', () => {
    const scan = buildScan([
      { id: 'a', tensors: { x: vec(200) } },
      { id: 'b', tensors: { y: vec(200) } },
      { id: 'c', tensors: { z: vec(50) } },
    ]);
    for (const { name } of METHODS) {
      const r = detect(scan, { method: name });
      expect(r.edges).toEqual([]);
      expect(r.families.length).toBe(3);
      expect(r.distances!.matrix[0][1]).toBe(Infinity);
      expect(r.warnings.some((w) => w.includes('no selected tensor shared'))).toBe(true);
      expect(Number.isFinite(r.models[0].score)).toBe(true);
    }
  });

  test('unrelated models (independent inits of one architecture) are roots without children', () => {
    const models = Array.from({ length: 6 }, (_, i) => ({ id: `u${i}`, tensors: { w: vec(2000), b: vec(40) } }));
    const scan = buildScan(models, { shapes: { w: [40, 50], b: [40] } });
    for (const { name } of METHODS) {
      const r = detect(scan, { method: name });
      expect(r.edges).toEqual([]);
      expect(r.roots.length).toBe(6);
    }
  });

  test('mixed architectures: families split along shared tensors', () => {
    // Two zoos with disjoint tensor names scanned together behave as the two alone.
    const other = simulateZoo({ families: 1, depth: 1, branching: 3, seed: 31, shapes: { 'conv.weight': [16, 3, 3, 3], 'conv.bias': [16], 'fc.weight': [10, 64] } });
    const models = [...stars.models, ...other.models.map((m) => ({ id: `cnn-${m.id}`, tensors: m.tensors }))];
    const scan = buildScan(models, { shapes: { ...stars.shapes, ...other.shapes } });
    const r = detect(scan, { method: 'spanning-forest' });
    const truth = [...truthSet(stars.lineage), ...other.lineage.edges.map((e) => `cnn-${e.parent}>cnn-${e.child}`)].sort();
    expect(edgeSet(r)).toEqual(truth);
  });

  test('include/exclude: a misleading vocabulary-sized tensor, left out', () => {
    // Each model gets an unrelated random "embed" tensor much larger than the rest: with plain
    // L2 it hides the families; excluding it restores them.
    const models = stars.models.map((m) => ({ id: m.id, tensors: { ...m.tensors, embed: Float64Array.from({ length: 20000 }, () => Math.fround(3 * gaussian(rng))) } }));
    const scan = buildScan(models, { shapes: { ...stars.shapes, embed: [200, 100] } });
    const opts = { method: 'spanning-forest' as const, distanceNormalize: 'none' as const, distanceCombine: 'sum' as const, minCorrelation: null };
    expect(evaluate(detect(scan, opts), stars.lineage).edgeAccuracy).toBeLessThan(0.5);
    expect(edgeSet(detect(scan, { ...opts, exclude: '^embed' }))).toEqual(truthSet(stars.lineage));
    expect(edgeSet(detect(scan, { ...opts, include: ['^l[12]\\.'] }))).toEqual(truthSet(stars.lineage));
  });

  test('τ given explicitly: small τ leaves every model a root', () => {
    const r = detect(stars.scan, { tau: 1e-9 });
    expect(r.edges).toEqual([]);
    expect(r.options.tauValue).toBe(1e-9);
  });
});

describe('result contents', () => {
  test('distances matrix, timings, options and determinism', () => {
    const a = detect(deep.scan, { method: 'spectral', seed: 4 });
    const b = detect(deep.scan, { method: 'spectral', seed: 4 });
    expect(a.edges).toEqual(b.edges);
    expect(a.distances!.ids).toEqual(deep.scan.models.map((m) => m.id));
    expect(a.distances!.matrix.length).toBe(deep.scan.models.length);
    for (const k of ['scores', 'distances', 'method', 'confidence', 'detect']) expect(a.timings[k]).toBeGreaterThanOrEqual(0);
    expect(a.options).toMatchObject({ method: 'spectral', seed: 4, score: 'fake-init' });
    expect(typeof a.options.tauValue).toBe('number');
    expect(a.models[0]).toMatchObject({ id: 'f0', path: '/synthetic/f0.safetensors', params: 48 * 64 + 48 + 24 * 48 + 24 });
    // Each edge records the distance between its ends.
    const e = a.edges[0];
    const i = a.distances!.ids.indexOf(e.parent);
    const j = a.distances!.ids.indexOf(e.child);
    expect(e.distance).toBe(a.distances!.matrix[i][j]);
  });

  test('confidence means something: on a noisy zoo, confident edges are right more often', () => {
    // No monotone guarantee and small perturbations: directions are often wrong.
    const noisy = simulateZoo({ families: 8, depth: 1, branching: 4, seed: 17, shapes: { w: [20, 20], b: [20] }, monotone: 'none', fineTuneScale: 0.1 });
    const r = detect(noisy.scan, { method: 'arborescence', score: 'norm' });
    const truth = new Set(truthSet(noisy.lineage));
    const right = r.edges.filter((e) => truth.has(`${e.parent}>${e.child}`));
    const wrong = r.edges.filter((e) => !truth.has(`${e.parent}>${e.child}`));
    expect(right.length).toBeGreaterThan(0);
    expect(wrong.length).toBeGreaterThan(0);
    const mean = (xs: { confidence: number }[]) => xs.reduce((s, x) => s + x.confidence, 0) / xs.length;
    expect(mean(right)).toBeGreaterThan(mean(wrong));
  });
});
