/**
 * repairByCounters (lib/detect/counter-repair.ts): trees in which a model's parent holds a
 * larger step counter than the model are repaired; edges the counters allow are kept.
 */
import { repairByCounters } from '../../lib/detect/counter-repair';

/** Squared distances of points on a line (row-major). */
function lineD2(pos: number[]): Float64Array {
  const m = pos.length;
  const d = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) d[i * m + j] = (pos[i] - pos[j]) ** 2;
  return d;
}

describe('repairByCounters', () => {
  // A root (counter 100), children a, b (120), grandchild g under a (140).
  const nodes = [0, 1, 2, 3];
  const counter = [100, 120, 120, 140];
  // a and g near each other, b farther: the nearest lower-counter model of g is a.
  const d2 = lineD2([0, 1, -1, 1.2]);

  it('a tree that puts the grandchild between the root and a child is rebuilt', () => {
    // Fitted (wrongly): root → g → a, root → b: a's parent g holds a larger counter, so a
    // moves to its nearest model of counter ≤ 120 (the root); root → g is allowed and stays
    // (the counters cannot tell a grandchild from a child: the weights decided that edge).
    const parent = Int32Array.from([-1, 3, 0, 0]);
    expect(repairByCounters(nodes, parent, counter, d2)).toBe(true);
    expect(Array.from(parent)).toEqual([-1, 0, 0, 0]);
  });

  it('a tree rooted above its least counter is rerooted there', () => {
    // a → g → root → b: the root's parent g and g's parent a both break the counters.
    const parent = Int32Array.from([3, -1, 0, 1]);
    expect(repairByCounters(nodes, parent, counter, d2)).toBe(true);
    expect(parent[0]).toBe(-1);
    for (const v of [1, 2, 3]) expect(counter[parent[v]]).toBeLessThanOrEqual(counter[v]);
  });

  it('edges the counters allow stay, equal counters included (a fine-tune in eval mode)', () => {
    const parent = Int32Array.from([-1, 0, 1, 1]); // b under a: equal counters, allowed
    const copy = Int32Array.from(parent);
    expect(repairByCounters(nodes, parent, counter, d2)).toBe(false);
    expect(parent).toEqual(copy);
  });

  it('a sibling hung under a near twin of its parent moves back to the parent', () => {
    // w (100) → u (120, a few tiny steps) and w → v (120): u lies on v's way from w (2-D:
    // u = (0.1, 0), v = (1, 1)), so d²(w, v) = 2 ≥ d²(u, v) = 1.81 and the tree hung v under
    // u. Equal counters along u → v, and u is a near twin of w: d²(w, u) = 0.01 ≤ 0.16·2.
    const pts = [[0, 0], [0.1, 0], [1, 1], [1.2, 1.5]];
    const d = new Float64Array(16);
    pts.forEach((a, i) => pts.forEach((b, j) => (d[i * 4 + j] = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)));
    const parent = Int32Array.from([-1, 0, 1, 2]); // g (140) under v: allowed, stays
    expect(repairByCounters(nodes, parent, [100, 120, 120, 140], d)).toBe(true);
    expect(Array.from(parent)).toEqual([-1, 0, 0, 2]);
    // A parent that is no near twin keeps an equal-counter child (a fine-tune in eval mode):
    // u = (1, 0) is as far from w as v is from u.
    const far = [[0, 0], [1, 0], [2, 0.5], [2.2, 1]];
    const d3 = new Float64Array(16);
    far.forEach((a, i) => far.forEach((b, j) => (d3[i * 4 + j] = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)));
    const chain = Int32Array.from([-1, 0, 1, 2]);
    expect(repairByCounters(nodes, chain, [100, 120, 120, 140], d3)).toBe(false);
    expect(Array.from(chain)).toEqual([-1, 0, 1, 2]);
  });

  it('leaves families without counters, with equal counters, or that would split', () => {
    const parent = Int32Array.from([3, -1, 0, 1]);
    const copy = Int32Array.from(parent);
    expect(repairByCounters(nodes, parent, [100, NaN, 120, 140], d2)).toBe(false);
    expect(repairByCounters(nodes, parent, [5, 5, 5, 5], d2)).toBe(false);
    // Two models at the least counter, one hanging under a larger one: detached, it would
    // become a second root, so the family is left as it was.
    expect(repairByCounters(nodes, Int32Array.from([-1, 0, 3, 1]), [100, 120, 100, 140], d2)).toBe(false);
    expect(parent).toEqual(copy);
  });

  it('only this family\'s nodes move: global indices outside it are untouched', () => {
    const parent = Int32Array.from([-1, -1, 9, 9, 1, 9, 4, 4, 7, -1]);
    // Family {1, 4, 6, 7} (global), tree 1 → 4 → {6, 7}; 4's counter is above 6's.
    const fam = [1, 4, 6, 7];
    const k = new Float64Array(10).fill(NaN);
    k[1] = 10; k[4] = 30; k[6] = 20; k[7] = 40;
    const d = lineD2([0, 2, 1, 3]);
    expect(repairByCounters(fam, parent, k, d)).toBe(true);
    // 6 (counter 20) had parent 4 (30): now under 1, the only model below it.
    expect(parent[6]).toBe(1);
    expect([parent[0], parent[2], parent[3], parent[5], parent[8], parent[9]]).toEqual([-1, 9, 9, 9, 7, -1]);
  });
});
