/**
 * KeyedUnionFind (model ids, used by report and eval) groups exactly as the index UnionFind
 * (used by detection) on the same random unions, with groups in first-seen order.
 */
import { KeyedUnionFind, UnionFind, createRng } from '../../lib/graph';

describe('union-find', () => {
  it.each([1, 7, 33, 100])('keyed and index sets agree on %i elements', (n) => {
    const rng = createRng(n);
    const plain = new UnionFind(n);
    const keyed = new KeyedUnionFind<string>();
    const order = [...Array(n).keys()].sort(() => rng.next() - 0.5);
    for (const v of order) keyed.add(`m${v}`);
    for (let i = 0; i < Math.floor(n * 0.7); i++) {
      const a = rng.int(n);
      const b = rng.int(n);
      plain.union(a, b);
      keyed.union(`m${a}`, `m${b}`);
    }
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) expect(keyed.find(`m${a}`) === keyed.find(`m${b}`)).toBe(plain.find(a) === plain.find(b));
    }
    expect([...keyed.keys()]).toEqual(order.map((v) => `m${v}`));
  });
});
