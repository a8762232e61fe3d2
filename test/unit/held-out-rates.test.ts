/**
 * Held-out error rates for direction confidences (root-posterior.ts heldOut; option
 * confidenceRates): each family's confidences are weighed with the rates the other families'
 * votes give, so a family alone in a scan is not vouched for by its own votes. Roots and trees
 * must not change; only confidences may.
 */
import { rootFamilies, type FamilyTree } from '../../lib/detect/root-posterior';
import { detect } from '../../lib/detect';
import { simulateZoo } from '../helpers/synthetic-scan';

const starAt = (c: number): FamilyTree => ({ nodes: [c, c + 1, c + 2, c + 3, c + 4], edges: [1, 2, 3, 4].map((k) => ({ a: c, b: c + k })) });
const laplace = (wrong: number, total: number) => (wrong + 1) / (total + 2);

test("each family's held-out rates are counted from the other families' votes under the chosen roots", () => {
  // Star A: t grows from the centre to all four children. Star B: t grows to two children and
  // falls to the other two. The score (last signal) grows along every edge of both.
  const t = [0, 1, 2, 3, 4, 0, 1, 2, -1, -2];
  const score = [0, 1, 1, 1, 1, 0, 1, 1, 1, 1];
  const r = rootFamilies([starAt(0), starAt(5)], 10, score, [{ name: 't', values: t }], 'attachment', 'tensor-votes');
  expect(r.roots).toEqual([0, 5]);
  // Scan-wide: t is wrong on 2 of 8 edges, the score on 0 of 8.
  expect(r.rates[0]).toBeCloseTo(laplace(2, 8), 12);
  expect(r.rates[1]).toBeCloseTo(laplace(0, 8), 12);
  // Held out: A sees only B's votes (t wrong on 2 of 4), B only A's (t wrong on 0 of 4).
  expect(r.heldOutRates()[0][0]).toBeCloseTo(laplace(2, 4), 12);
  expect(r.heldOutRates()[1][0]).toBeCloseTo(laplace(0, 4), 12);
  expect(r.heldOutRates()[0][1]).toBeCloseTo(laplace(0, 4), 12);
});

test('a family alone: its held-out rates are those of no votes, except a rate that is known', () => {
  const t = [0, 1, 2, 3, 4];
  const counter = { name: 'step-counter', values: [0, 5, 5, 5, 5], errorRate: 0.01 };
  const r = rootFamilies([starAt(0)], 5, t, [{ name: 't', values: t }, counter], 'attachment', 'tensor-votes');
  expect(r.roots).toEqual([0]);
  // Own votes all agree: the scan's rates say the signals are good; held out, nothing does.
  expect(r.rates[0]).toBeCloseTo(laplace(0, 4), 12);
  expect(r.heldOutRates()[0]).toEqual([0.5, 0.01, 0.5]); // t, the counter, the score
});

describe('through detect', () => {
  const one = simulateZoo({ families: 1, depth: 2, branching: [3, 1], seed: 4 });
  const many = simulateZoo({ families: 4, depth: 2, branching: [3, 1], seed: 4 });

  test.each([
    ['one family', one],
    ['four families', many],
  ])('%s: the same edges and roots under both settings; held-out confidences are valid', (_, zoo) => {
    const scan = detect(zoo.scan, { confidenceRates: 'scan' });
    const held = detect(zoo.scan, { confidenceRates: 'held-out' });
    expect(held.edges.map((e) => [e.parent, e.child])).toEqual(scan.edges.map((e) => [e.parent, e.child]));
    expect(held.familyDirections!.map((f) => f.root)).toEqual(scan.familyDirections!.map((f) => f.root));
    for (const e of held.edges) {
      expect(e.confidenceParts!.direction).toBeGreaterThanOrEqual(0);
      expect(e.confidenceParts!.direction).toBeLessThanOrEqual(1);
    }
  });

  test('a family alone is not vouched for by its own votes', () => {
    const scan = detect(one.scan, { confidenceRates: 'scan' });
    const held = detect(one.scan, { confidenceRates: 'held-out' });
    // With the scan's rates, its own agreeing votes make it near certain; held out, only the
    // attachment prior speaks, which cannot make every edge of a three-child tree sure.
    expect(scan.familyDirections![0].confidence!).toBeGreaterThan(0.85);
    expect(held.familyDirections![0].confidence!).toBeLessThan(0.6);
  });

  test('an unknown setting is refused', () => {
    expect(() => detect(one.scan, { confidenceRates: 'own' as never })).toThrow(/confidenceRates/);
  });
});
