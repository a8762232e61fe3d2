import { formatLineagePaths, pathTo } from '../../lib/report/paths';
import type { DetectionResult } from '../../lib/detect/types';

const result = (edges: [string, string][], ids: string[]): DetectionResult => ({
  models: ids.map((id) => ({ id, path: id, params: 1, score: 0 })),
  edges: edges.map(([parent, child]) => ({ parent, child, confidence: 0.5 })),
  roots: ids.filter((id) => !edges.some(([, c]) => c === id)),
  families: [],
  duplicates: [],
  method: 'test',
  options: {},
  timings: {},
  warnings: [],
});

describe('lineage paths', () => {
  it('follows parents up to the root, safely around cycles', () => {
    const parent = new Map([['c', 'b'], ['b', 'a']]);
    expect(pathTo('c', parent)).toEqual(['a', 'b', 'c']);
    expect(pathTo('x', new Map([['x', 'y'], ['y', 'x']]))).toEqual(['y', 'x']);
  });

  it('prints one path per model with a parent and marks whole paths against the truth', () => {
    const r = result([['a', 'b'], ['b', 'c'], ['a', 'd']], ['a', 'b', 'c', 'd', 'z']);
    const truth = { edges: [{ parent: 'a', child: 'b' }, { parent: 'a', child: 'c' }, { parent: 'a', child: 'd' }], families: [['a', 'b', 'c', 'd']] };
    const p = formatLineagePaths(r, truth);
    expect(p.predicted).toBe(3);
    expect(p.right).toBe(2);
    expect(p.text).toContain('a →(0.50) b →(0.50) c   (generation 2)  ✗ true: a → c');
    expect(p.text).toContain('a →(0.50) d   (generation 1)  ✓');
    expect(p.text).toContain('no parent and no descendants: z');
    expect(p.text).toContain('whole lineage paths right: 2 of 3 predicted (3 models have a true parent)');
  });
});
