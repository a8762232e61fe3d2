import { fitSimplex, findMerges } from '../../lib/detect/typing';
import { simplexResidual } from '../../lib/detect/typing/simplex-fit';
import { detect } from '../../lib/detect/detect';
import { evaluate } from '../../lib/eval/metrics';
import { createRng } from '../../lib/graph/rng';
import { buildScan, gaussian, simulateZoo, type SynthModel } from '../helpers/synthetic-scan';
import { bf16BitsToFloat, floatToBf16Bits, f16BitsToFloat, floatToF16Bits } from '../../lib/io/dtype';

/** Squared Euclidean distances of points (rows). */
function sqdist(pts: number[][]): number[][] {
  return pts.map((a) => pts.map((b) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0)));
}

describe('fitSimplex', () => {
  test('matches a dense search over the simplex on random points (k = 3, odd dimensions)', () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 20; trial++) {
      const dim = 3 + (trial % 5);
      const pts = Array.from({ length: 4 }, () => Array.from({ length: dim }, () => gaussian(rng)));
      const d = sqdist(pts);
      const fit = fitSimplex([d[0][1], d[0][2], d[0][3]], [1, 2, 3].map((i) => [1, 2, 3].map((j) => d[i][j])), 3)!;
      // Reference: the residual straight from the points, on a 1/200 grid of the simplex.
      let best = Infinity;
      for (let a = 0; a <= 200; a++) {
        for (let b = 0; a + b <= 200; b++) {
          const w = [a / 200, b / 200, (200 - a - b) / 200];
          const r = pts[0].reduce((s, x, i) => s + (x - w[0] * pts[1][i] - w[1] * pts[2][i] - w[2] * pts[3][i]) ** 2, 0);
          best = Math.min(best, r);
        }
      }
      expect(fit.residual).toBeLessThanOrEqual(best + 1e-9);
      expect(fit.residual).toBeGreaterThan(best - 0.05 * Math.max(1, best));
      expect(fit.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      const full = [1, 2, 3].map((i) => [1, 2, 3].map((j) => d[i][j]));
      expect(simplexResidual([d[0][1], d[0][2], d[0][3]], full, fit.members, fit.weights)).toBeCloseTo(fit.residual, 9);
    }
  });

  test('recovers an exact merge inside the hull, whatever the scale', () => {
    const rng = createRng(3);
    for (const scale of [1e-6, 1, 1e6]) {
      const p = Array.from({ length: 4 }, () => Array.from({ length: 9 }, () => scale * gaussian(rng)));
      const c = p[0].map((_, i) => 0.5 * p[0][i] + 0.3 * p[1][i] + 0.2 * p[2][i]);
      const d = sqdist([c, ...p]);
      const fit = fitSimplex([1, 2, 3, 4].map((i) => d[0][i]), [1, 2, 3, 4].map((i) => [1, 2, 3, 4].map((j) => d[i][j])), 4, 0.05)!;
      expect(fit.members).toEqual([0, 1, 2]);
      expect(fit.weights[0]).toBeCloseTo(0.5, 6);
      expect(fit.weights[1]).toBeCloseTo(0.3, 6);
      expect(fit.residual).toBeLessThan(1e-9 * scale * scale * 9);
    }
  });
});

/** A zoo plus a merged child of two siblings (linear, weight w on the first). */
function zooWithMerge(seed: number, w: number) {
  const zoo = simulateZoo({ families: 2, depth: 2, branching: [3, 1], seed, fineTuneScale: 0.3 });
  const a = zoo.models.find((m) => m.id === 'f0.0')!;
  const b = zoo.models.find((m) => m.id === 'f0.1')!;
  const merged: SynthModel = { id: 'merged', tensors: Object.fromEntries(Object.keys(a.tensors).map((n) => [n, Float64Array.from(a.tensors[n], (x, i) => w * x + (1 - w) * b.tensors[n][i])])) };
  const copy: SynthModel = { id: 'f1.copy', tensors: zoo.models.find((m) => m.id === 'f1.0')!.tensors };
  const models = [...zoo.models, merged, copy];
  const lineage = {
    edges: [
      ...zoo.lineage.edges,
      { parent: 'f0.0', child: 'merged', type: 'merge' as const, weight: w },
      { parent: 'f0.1', child: 'merged', type: 'merge' as const, weight: 1 - w },
      { parent: 'f1.0', child: 'f1.copy', type: 'duplicate' as const },
    ],
    families: [],
  };
  return { scan: buildScan(models, { shapes: zoo.shapes }), lineage };
}

describe('merges and duplicates in detect()', () => {
  test('a linear merge of two siblings gets one edge per parent with its weight; the copy is a duplicate', () => {
    for (const seed of [1, 2, 3]) {
      const { scan, lineage } = zooWithMerge(seed, 0.6);
      const r = detect(scan);
      const into = r.edges.filter((e) => e.child === 'merged');
      expect(into.map((e) => [e.parent, e.type])).toEqual([['f0.0', 'merge'], ['f0.1', 'merge']]);
      expect(into[0].weight).toBeCloseTo(0.6, 2);
      expect(r.edges.find((e) => e.child === 'f1.copy' || e.parent === 'f1.copy')?.type).toBe('duplicate');
      const m = evaluate(r, lineage);
      expect(m.typed.multiParentRecall).toBe(1);
      expect(m.typed.falseMerges).toBe(0);
      expect(r.families.find((f) => f.includes('merged'))).toEqual(expect.arrayContaining(['f0', 'f0.0', 'f0.1']));
    }
  });

  test('no merge is found in plain fine-tune trees (siblings correlated or not, spread learning rates)', () => {
    let merges = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      for (const siblingCorrelation of [0, 0.3]) {
        const zoo = simulateZoo({ families: 3, depth: 2, branching: [4, 2], seed, siblingCorrelation, scaleSpread: 2 });
        const r = detect(zoo.scan);
        merges += r.edges.filter((e) => e.type === 'merge').length;
        expect(evaluate(r, zoo.lineage).typed.falseMerges).toBe(0);
      }
    }
    expect(merges).toBe(0);
  });

  test('mergeRatio null turns merges off; findMerges never lets a merge be a parent of another', () => {
    const { scan } = zooWithMerge(1, 0.5);
    expect(detect(scan, { mergeRatio: null }).edges.some((e) => e.type === 'merge')).toBe(false);
    const related = scan.models.map(() => scan.models.map(() => true));
    const found = findMerges(scan.tensors, scan.models.map((_, i) => i).slice(0, -1), related, 0.125);
    const children = new Set(found.map((f) => f.child));
    for (const f of found) for (const p of f.parents) expect(children.has(p.model)).toBe(false);
    expect(() => detect(scan, { mergeRatio: 2 })).toThrow(/mergeRatio must be in \(0, 1\)/);
  });
});

describe('quantized copies in detect()', () => {
  const toBf16 = (x: number) => bf16BitsToFloat(floatToBf16Bits(x));
  const toF16 = (x: number) => f16BitsToFloat(floatToF16Bits(x));
  const round = (m: SynthModel, id: string, f: (x: number) => number): SynthModel => ({ id, tensors: Object.fromEntries(Object.entries(m.tensors).map(([n, t]) => [n, Float64Array.from(t as ArrayLike<number>, f)])) });

  test('BF16 and F16 copies hang from their F32 source, typed quantized, whatever the scores say; a BF16 fine-tune stays a fine-tune', () => {
    for (const seed of [1, 2]) {
      const zoo = simulateZoo({ families: 2, depth: 1, branching: 3, seed });
      const src = zoo.models.find((m) => m.id === 'f0.1')!;
      const rng = createRng(seed);
      const ft: SynthModel = { id: 'ft-bf16', tensors: Object.fromEntries(Object.entries(src.tensors).map(([n, t]) => [n, Float64Array.from(t as ArrayLike<number>, (x) => toBf16(x + 0.02 * gaussian(rng)))])) };
      const models = [...zoo.models, round(src, 'q-bf16', toBf16), round(src, 'q-f16', toF16), ft];
      const scan = buildScan(models, { shapes: zoo.shapes });
      const idx = (id: string) => models.findIndex((m) => m.id === id);
      const low: Record<number, string> = { [idx('q-bf16')]: 'BF16', [idx('q-f16')]: 'F16', [idx('ft-bf16')]: 'BF16' };
      for (const t of scan.tensors) t.dtypes = t.models.map((m) => low[m] ?? 'F32');
      const r = detect(scan);
      const edge = (c: string) => r.edges.find((e) => e.child === c);
      expect([edge('q-bf16')?.parent, edge('q-bf16')?.type]).toEqual(['f0.1', 'quantized']);
      expect([edge('q-f16')?.parent, edge('q-f16')?.type]).toEqual(['f0.1', 'quantized']);
      expect(edge('q-bf16')!.confidence).toBeGreaterThan(0.5);
      expect(r.edges.filter((e) => e.parent === 'ft-bf16' || e.child === 'ft-bf16').every((e) => e.type !== 'quantized')).toBe(true);
      expect(r.warnings.join('\n')).toMatch(/quantized copies .*q-bf16 from f0\.1/);
    }
  });

  test('all-F32 zoos have no quantized edge', () => {
    const zoo = simulateZoo({ families: 2, depth: 2, branching: [3, 1], seed: 4 });
    expect(detect(zoo.scan).edges.some((e) => e.type === 'quantized')).toBe(false);
  });
});
