import { parseLineage, renameLineage } from '../../lib/io/lineage';
import { FormatError } from '../../lib/errors';

const parse = (v: unknown) => parseLineage('zoo/lineage.json', JSON.stringify(v));

describe('lineage.json with typed edges', () => {
  test('an old file reads as untyped fine-tunes', () => {
    const l = parse({ edges: [{ parent: 'a', child: 'b' }], families: [['a', 'b']] });
    expect(l.edges).toEqual([{ parent: 'a', child: 'b' }]);
  });

  test('types, merge weights, ranks and several merge parents', () => {
    const l = parse({
      edges: [
        { parent: 'a', child: 'b', type: 'finetune', rank: 8 },
        { parent: 'a', child: 'c', type: 'peft', rank: 4 },
        { parent: 'b', child: 'm', type: 'merge', weight: 0.6 },
        { parent: 'c', child: 'm', type: 'merge', weight: 0.4 },
        { parent: 'a', child: 'q', type: 'quantized' },
        { parent: 'a', child: 'd', type: 'duplicate' },
      ],
    });
    expect(l.edges.filter((e) => e.child === 'm').map((e) => [e.parent, e.weight])).toEqual([['b', 0.6], ['c', 0.4]]);
    expect(l.edges[0].rank).toBe(8);
    expect(l.families).toEqual([]);
  });

  test.each([
    [{ edges: [{ parent: 'a', child: 'b', type: 'distilled' }] }, /edge 0 "type" must be one of finetune, peft, merge, quantized, duplicate/],
    [{ edges: [{ parent: 'a', child: 'b', typ: 'merge' }] }, /edge 0 has an unknown field "typ"/],
    [{ edges: [{ parent: 'a', child: 'b', weight: 0.5 }] }, /edge 0 has a "weight" but is a finetune edge/],
    [{ edges: [{ parent: 'a', child: 'm', type: 'merge', weight: 'x' }, { parent: 'b', child: 'm', type: 'merge' }] }, /edge 0 "weight" must be a finite number/],
    [{ edges: [{ parent: 'a', child: 'b', type: 'merge', rank: 2 }] }, /edge 0 has a "rank" but is a merge edge/],
    [{ edges: [{ parent: 'a', child: 'b', rank: 0 }] }, /edge 0 "rank" must be a positive integer/],
    [{ edges: [{ parent: 'a', child: 'b', rank: 1.5 }] }, /edge 0 "rank" must be a positive integer/],
    [{ edges: [{ parent: 'a', child: 'm' }, { parent: 'b', child: 'm' }] }, /'m' has 2 parents but its edge from 'a' is a finetune edge/],
    [{ edges: [{ parent: 'a', child: 'm', type: 'merge' }, { parent: 'b', child: 'm' }] }, /'m' has 2 parents but its edge from 'b' is a finetune edge/],
    [{ edges: [{ parent: 'a', child: 'm', type: 'merge', weight: 1 }] }, /merge child 'm' has a single parent 'a'/],
    [{ edges: [{ parent: 'a', child: 'b' }, { parent: 'b', child: 'a', type: 'duplicate' }] }, /edge 1 joins 'b' and 'a', which an earlier edge already joins/],
    [{ edges: [{ parent: 'a', child: 'b' }, { parent: 'b', child: 'c' }, { parent: 'c', child: 'a' }] }, /cycle: .*a → .* → a|cycle/],
    [{ edges: [{ parent: 'a', child: 'a' }] }, /makes 'a' its own parent/],
    [{ edges: [null] }, /edge 0 must be an object/],
    [{ edges: [[1, 2]] }, /edge 0 must be an object/],
    [{ edges: {} }, /"edges" must be an array/],
    [[], /must be a JSON object/],
  ])('refuses %j', (v, re) => {
    expect(() => parse(v)).toThrow(FormatError);
    expect(() => parse(v)).toThrow(re);
    expect(() => parse(v)).toThrow(/zoo\/lineage\.json/);
  });

  test('renaming keeps types and weights', () => {
    const l = parse({ edges: [{ parent: 'a', child: 'm', type: 'merge', weight: 0.5 }, { parent: 'b', child: 'm', type: 'merge', weight: 0.5 }] });
    expect(renameLineage(l, (id) => `x/${id}`).edges[0]).toEqual({ parent: 'x/a', child: 'x/m', type: 'merge', weight: 0.5 });
  });
});
