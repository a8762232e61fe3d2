/**
 * The second pass over real files (lib/detect/typing/low-rank.ts, sparse-merge.ts): small
 * safetensors models written here, a detection result naming the edges to check, and what each
 * pass makes of them. Matrix sizes (37×29, 23×41) are multiples of no block size.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openModels } from '../../lib/io/discover';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { markLowRank } from '../../lib/detect/typing/low-rank';
import { applySparseMerges, findSparseMerges } from '../../lib/detect/typing/sparse-merge';
import { MERGE_RECIPES } from '../../lib/zoo/merge-kinds';
import { Rng } from '../../lib/zoo/rng';
import type { DetectionResult } from '../../lib/detect/types';

const SHAPES: [string, number[]][] = [['w1', [37, 29]], ['w2', [23, 41]], ['norm', [29]]];
type Model = Map<string, Float32Array>;

let dir: string;
const rng = new Rng(Date.now() % 1_000_003);
const normal = (n: number, s: number) => Float32Array.from({ length: n }, () => s * Math.sqrt(-2 * Math.log(rng.next() + 1e-12)) * Math.cos(2 * Math.PI * rng.next()));
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function write(id: string, m: Model): void {
  writeSafetensors(path.join(dir, `${id}.safetensors`), SHAPES.map(([name, shape]) => ({ name, dtype: 'F32', shape, data: m.get(name)! })));
}
const map = (f: (name: string, shape: number[]) => Float32Array): Model => new Map(SHAPES.map(([n, s]) => [n, f(n, s)]));
const add = (a: Model, d: Model): Model => map((n) => a.get(n)!.map((v, i) => v + d.get(n)![i]));

function result(edges: [string, string][], ids: string[]): DetectionResult {
  return {
    models: ids.map((id) => ({ id, path: path.join(dir, `${id}.safetensors`), params: 0, score: 0 })),
    edges: edges.map(([parent, child]) => ({ parent, child, type: 'finetune' as const, confidence: 0.6 })),
    roots: ids.filter((id) => !edges.some(([, c]) => c === id)),
    families: [ids],
    duplicates: [],
    method: 'test',
    options: {},
    timings: {},
    warnings: [],
  };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-second-pass-'));
  const base = map((_, s) => normal(size(s), 0.05));
  const dense = () => map((_, s) => normal(size(s), 0.01));
  const a = add(base, dense());
  const b = add(base, dense());
  // rank-3 change on the matrices only (a merged LoRA), norms untouched
  const lora = map((n, s) => {
    if (s.length !== 2) return new Float32Array(size(s));
    const [r, c] = s;
    const u = normal(r * 3, 0.1), v = normal(3 * c, 0.1), d = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) for (let k = 0; k < 3; k++) d[i * c + j] += u[i * 3 + k] * v[k * c + j];
    return d;
  });
  const ties = map((n) => MERGE_RECIPES.ties.apply({ a: a.get(n)!, b: b.get(n)!, base: base.get(n)! }, 1, rng));
  const dare = map((n) => MERGE_RECIPES.dare.apply({ a: a.get(n)!, b: b.get(n)!, base: base.get(n)! }, 0.5, rng));
  for (const [id, m] of [['base', base], ['a', a], ['b', b], ['lora', add(base, lora)], ['ties', ties], ['dare', dare]] as const) write(id, m);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('second pass', () => {
  it('marks a merged LoRA low-rank with its rank, and no dense fine-tune', async () => {
    const set = await openModels([dir]);
    const r = result([['base', 'a'], ['base', 'lora']], set.models.map((m) => m.id));
    await markLowRank(r, set, { maxRank: 8 });
    expect(r.edges.map((e) => [e.child, e.lowRank ?? false, e.rank ?? null])).toEqual([['a', false, null], ['lora', true, 3]]);
  });

  it('finds TIES and DARE children as merges of both parents over their base, and leaves fine-tunes alone', async () => {
    const set = await openModels([dir]);
    const r = result([['base', 'a'], ['base', 'b'], ['base', 'ties'], ['base', 'dare'], ['base', 'lora']], set.models.map((m) => m.id));
    const found = findSparseMerges(r, set);
    expect(found.map((f) => [f.child, f.base, f.parents.map((p) => p.id).sort()])).toEqual([
      ['ties', 'base', ['a', 'b']],
      ['dare', 'base', ['a', 'b']],
    ]);
    // DARE's kept entries are 0.5 / (1 − 0.9) = 5 times the parent's change; TIES' are 1 times.
    expect(found[1].parents[0].ratio).toBeCloseTo(5, 0);
    expect(found[0].parents[0].ratio).toBeCloseTo(1, 1);
    applySparseMerges(r, found);
    expect(r.edges.filter((e) => e.child === 'ties').map((e) => [e.parent, e.type]).sort()).toEqual([['a', 'merge'], ['b', 'merge']]);
    expect(r.edges.filter((e) => e.type === 'finetune').map((e) => e.child).sort()).toEqual(['a', 'b', 'lora']);
  });

  it('looks for the base above the detected parent when the tree hung the merge under a merged model', async () => {
    const set = await openModels([dir]);
    const r = result([['base', 'a'], ['base', 'b'], ['a', 'ties']], set.models.map((m) => m.id));
    const found = findSparseMerges(r, set);
    expect(found.map((f) => [f.child, f.base, f.parents.map((p) => p.id).sort()])).toEqual([['ties', 'base', ['a', 'b']]]);
  });
});
