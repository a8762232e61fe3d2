import { confidenceAuc } from '../../lib/eval/auc';
import type { DetectionResult } from '../../lib/detect/types';

const result = (edges: [string, string, number][]): DetectionResult => ({
  models: [],
  edges: edges.map(([parent, child, confidence]) => ({ parent, child, confidence })),
  roots: [],
  families: [],
  duplicates: [],
  method: 'test',
  options: {},
  timings: {},
  warnings: [],
});
const truth = { edges: [{ parent: 'a', child: 'b' }, { parent: 'a', child: 'c' }], families: [['a', 'b', 'c', 'd']] };

describe('confidence AUC', () => {
  test('perfect, reversed, tied and undefined rankings', () => {
    expect(confidenceAuc(result([['a', 'b', 0.9], ['a', 'c', 0.8], ['b', 'd', 0.1]]), truth)).toBe(1);
    expect(confidenceAuc(result([['a', 'b', 0.1], ['c', 'a', 0.8]]), truth)).toBe(0);
    expect(confidenceAuc(result([['a', 'b', 0.5], ['a', 'c', 0.7], ['b', 'd', 0.5]]), truth)).toBe(0.75);
    expect(confidenceAuc(result([['a', 'b', 0.5]]), truth)).toBeNull();
  });
});
