import { evaluate } from '../../lib/eval/metrics';
import type { DetectionResult } from '../../lib/detect/types';
import type { Lineage } from '../../lib/io/types';

function result(edges: [string, string][], families: string[][], roots: string[] = []): DetectionResult {
  const ids = families.flat();
  return {
    models: ids.map((id) => ({ id, path: id, params: 1, score: 0 })),
    edges: edges.map(([parent, child]) => ({ parent, child, confidence: 1 })),
    roots,
    families,
    duplicates: [],
    method: 'test',
    options: {},
    timings: {},
    warnings: [],
  };
}

// Truth: A → B → C, A → D; E → F.
const truth: Lineage = {
  edges: [
    { parent: 'A', child: 'B' },
    { parent: 'B', child: 'C' },
    { parent: 'A', child: 'D' },
    { parent: 'E', child: 'F' },
  ],
  families: [['A', 'B', 'C', 'D'], ['E', 'F']],
};

describe('evaluate', () => {
  test('a perfect result', () => {
    const r = result([['A', 'B'], ['B', 'C'], ['A', 'D'], ['E', 'F']], [['A', 'B', 'C', 'D'], ['E', 'F']]);
    expect(evaluate(r, truth)).toMatchObject({ edgeAccuracy: 1, precision: 1, recall: 1, f1: 1, directionAccuracy: 1, ari: 1 });
  });

  test('hand-made: one reversed, one wrong pair, one missing', () => {
    // B → A reversed; A → C wrong pair (C's parent is B); A → D right; E → F missing.
    const r = result([['B', 'A'], ['A', 'C'], ['A', 'D']], [['A', 'B', 'C', 'D'], ['E'], ['F']]);
    const m = evaluate(r, truth);
    expect(m.counts).toEqual({ models: 6, trueEdges: 4, predictedEdges: 3, correctEdges: 1, pairedEdges: 2, reversedEdges: 1 });
    expect(m.edgeAccuracy).toBeCloseTo(1 / 4, 12);
    expect(m.recall).toBeCloseTo(1 / 4, 12);
    expect(m.precision).toBeCloseTo(1 / 3, 12);
    expect(m.f1).toBeCloseTo((2 * (1 / 3) * (1 / 4)) / (1 / 3 + 1 / 4), 12);
    expect(m.directionAccuracy).toBeCloseTo(1 / 2, 12);
    // Families {ABCD}{E}{F} vs {ABCD}{EF}: index 6, rows 6, cols 7, pairs 15.
    expect(m.ari).toBeCloseTo((6 - 42 / 15) / (6.5 - 42 / 15), 12);
  });

  test('no matched pair: direction accuracy is null', () => {
    const r = result([['C', 'D']], [['A'], ['B'], ['C', 'D'], ['E'], ['F']]);
    const m = evaluate(r, truth);
    expect(m.directionAccuracy).toBeNull();
    expect(m.precision).toBe(0);
    expect(m.f1).toBe(0);
  });

  test('models the truth does not know are ignored; models the result omits count as alone', () => {
    const r = result([['A', 'B'], ['B', 'C'], ['A', 'D'], ['E', 'F'], ['X', 'Y']], [['A', 'B', 'C', 'D'], ['E', 'F'], ['X', 'Y']]);
    expect(evaluate(r, truth)).toMatchObject({ precision: 1, recall: 1, ari: 1 });
    const partial = result([['A', 'B']], [['A', 'B']]);
    const m = evaluate(partial, truth);
    expect(m.counts.models).toBe(6);
    expect(m.recall).toBe(0.25);
    expect(m.precision).toBe(1);
  });

  test('truth families come from the edges when the list is empty; no true edges', () => {
    const t: Lineage = { edges: [{ parent: 'P', child: 'Q' }], families: [] };
    expect(evaluate(result([['P', 'Q']], [['P', 'Q']]), t)).toMatchObject({ recall: 1, ari: 1 });
    const none: Lineage = { edges: [], families: [['S'], ['T']] };
    expect(evaluate(result([], [['S'], ['T']]), none)).toMatchObject({ precision: 1, recall: 1, f1: 1, ari: 1, directionAccuracy: null });
    expect(evaluate(result([['S', 'T']], [['S', 'T']]), none)).toMatchObject({ precision: 0, recall: 0 });
  });

  test('duplicate truth edges count once', () => {
    const t: Lineage = { edges: [{ parent: 'P', child: 'Q' }, { parent: 'P', child: 'Q' }], families: [] };
    expect(evaluate(result([['P', 'Q']], [['P', 'Q']]), t).counts.trueEdges).toBe(1);
  });
});
