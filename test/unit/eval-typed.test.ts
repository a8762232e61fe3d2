import { evaluate, formatConfusion } from '../../lib/eval/metrics';
import type { DetectionResult, DetectedEdge } from '../../lib/detect/types';
import type { Lineage } from '../../lib/io/types';

function result(edges: DetectedEdge[]): DetectionResult {
  const ids = [...new Set(edges.flatMap((e) => [e.parent, e.child]))];
  return {
    models: ids.map((id) => ({ id, path: id, params: 1, score: 0 })),
    edges,
    roots: [],
    families: [ids],
    duplicates: [],
    method: 't',
    options: {},
    timings: {},
    warnings: [],
  };
}

const truth: Lineage = {
  edges: [
    { parent: 'r', child: 'a' },
    { parent: 'r', child: 'b' },
    { parent: 'a', child: 'm', type: 'merge', weight: 0.5 },
    { parent: 'b', child: 'm', type: 'merge', weight: 0.5 },
    { parent: 'r', child: 'd', type: 'duplicate' },
  ],
  families: [],
};

describe('typed metrics', () => {
  test('a perfect typed result', () => {
    const m = evaluate(
      result([
        { parent: 'r', child: 'a', confidence: 1 },
        { parent: 'r', child: 'b', confidence: 1, type: 'finetune' },
        { parent: 'a', child: 'm', confidence: 1, type: 'merge', weight: 0.49 },
        { parent: 'b', child: 'm', confidence: 1, type: 'merge', weight: 0.51 },
        // A duplicate's direction is undetermined: reversed still counts.
        { parent: 'd', child: 'r', confidence: 0.5, type: 'duplicate' },
      ]),
      truth,
    );
    expect(m.edgeAccuracy).toBe(1);
    expect(m.typed.typedEdgeAccuracy).toBe(1);
    expect(m.typed.multiParentRecall).toBe(1);
    expect(m.typed.falseMerges).toBe(0);
    expect(m.typed.confusion.merge.merge).toBe(2);
    expect(m.typed.confusion.duplicate.duplicate).toBe(1);
  });

  test('an untyped forest: right pairs, wrong types, the merge half found', () => {
    const m = evaluate(
      result([
        { parent: 'r', child: 'a', confidence: 1 },
        { parent: 'r', child: 'b', confidence: 1 },
        { parent: 'a', child: 'm', confidence: 1 },
        { parent: 'r', child: 'd', confidence: 1 },
      ]),
      truth,
    );
    expect(m.edgeAccuracy).toBeCloseTo(4 / 5);
    expect(m.typed.typedEdgeAccuracy).toBeCloseTo(2 / 5);
    expect(m.typed.multiParentRecall).toBe(0);
    expect(m.typed.confusion.merge).toMatchObject({ finetune: 1, missed: 1 });
    expect(m.typed.confusion.duplicate.finetune).toBe(1);
    expect(formatConfusion(m.typed.confusion)).toMatch(/merge\s+1\s+0\s+0\s+0\s+0\s+1/);
  });

  test('a merge predicted where the truth has a fine-tune is a false merge', () => {
    const m = evaluate(
      result([
        { parent: 'r', child: 'a', confidence: 1 },
        { parent: 'r', child: 'b', confidence: 1, type: 'merge', weight: 0.5 },
        { parent: 'a', child: 'b', confidence: 1, type: 'merge', weight: 0.5 },
      ]),
      truth,
    );
    expect(m.typed.falseMerges).toBe(1);
    expect(m.typed.confusion.none.merge).toBe(1);
    expect(m.typed.multiParentRecall).toBe(0);
  });

  test('no merges in the truth: multi-parent recall is null', () => {
    const m = evaluate(result([{ parent: 'r', child: 'a', confidence: 1 }]), { edges: [{ parent: 'r', child: 'a' }], families: [] });
    expect(m.typed.multiParentRecall).toBeNull();
    expect(m.typed.typedEdgeAccuracy).toBe(1);
  });
});
