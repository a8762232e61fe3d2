import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MERGE_KINDS, MERGE_RECIPES, readFloatModel, writeMergedSet } from '../../lib/zoo/merge';
import { Rng } from '../../lib/zoo/rng';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { parseLineage } from '../../lib/io/lineage';
import { writeQuantizedSet } from '../../lib/zoo/quantize';
import { readHeaderSync } from '../../lib/io/safetensors';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('merge recipes', () => {
  const base = f32([0, 0, 0, 0, 0]);
  const a = f32([1, 0, 2, 0, -4]);
  const b = f32([0, 3, 2, 0, 1]);
  test('linear and task arithmetic are the weighted sums their truth says', () => {
    const rng = new Rng(1);
    expect(Array.from(MERGE_RECIPES.linear.apply({ a, b, base }, 0.25, rng))).toEqual([0.25, 2.25, 2, 0, -0.25]);
    const ta = MERGE_RECIPES['task-arithmetic'];
    const c = ta.apply({ a, b, base: f32([1, 1, 1, 1, 1]) }, 0.4, rng);
    const truth = ta.truth(0.4);
    expect(truth.map((t) => t.who)).toEqual(['a', 'b', 'base']);
    const w = Object.fromEntries(truth.map((t) => [t.who, t.weight]));
    c.forEach((x, i) => expect(x).toBeCloseTo(w.a * a[i] + w.b * b[i] + w.base * 1, 5));
  });

  test('SLERP keeps the norm of equal-norm parents and is linear for parallel ones', () => {
    const rng = new Rng(1);
    const u = f32([1, 0]);
    const v = f32([0, 1]);
    const m = MERGE_RECIPES.slerp.apply({ a: u, b: v, base: f32([0, 0]) }, 0.5, rng);
    expect(Math.hypot(m[0], m[1])).toBeCloseTo(1, 6);
    expect(Array.from(MERGE_RECIPES.slerp.apply({ a: u, b: f32([2, 0]), base: f32([0, 0]) }, 0.5, rng))).toEqual([1.5, 0]);
  });

  test('TIES keeps the largest 20% of each task vector and DARE rescales what it keeps', () => {
    const n = 100;
    const zero = new Float32Array(n);
    const ta = Float32Array.from({ length: n }, (_, i) => i + 1);
    const ties = MERGE_RECIPES.ties.apply({ a: ta, b: zero, base: zero }, 1, new Rng(2));
    expect(ties.filter((x) => x !== 0).length).toBe(20);
    expect(Math.min(...Array.from(ties).filter((x) => x !== 0))).toBe(81);
    const ones = new Float32Array(n).fill(1);
    const dare = MERGE_RECIPES.dare.apply({ a: ones, b: zero, base: zero }, 0.5, new Rng(3));
    for (const x of dare) expect([0, 5]).toContain(Math.round(x * 1e5) / 1e5);
  });
});

describe('writeMergedSet', () => {
  test('writes the zoo, one merge per family and typed truth that the strict reader accepts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-merge-'));
    try {
      const zoo = path.join(dir, 'zoo');
      fs.mkdirSync(zoo);
      const rng = new Rng(5);
      const ids = ['r', 'c1', 'c2', 'c3'];
      for (const id of ids) writeSafetensors(path.join(zoo, `${id}.safetensors`), [{ name: 'w', dtype: 'F32', shape: [3, 7], data: Float32Array.from({ length: 21 }, () => rng.next()) }]);
      const lineage = { edges: ['c1', 'c2', 'c3'].map((c) => ({ parent: 'r', child: c })), families: [ids] };
      for (const kind of MERGE_KINDS) {
        const set = writeMergedSet({ zooDir: zoo, lineage, outDir: path.join(dir, kind), kind, seed: 0 });
        expect(set.merged).toHaveLength(1);
        const m = set.merged[0];
        expect(new Set(m.parents.map((p) => p.id)).size).toBe(m.parents.length);
        const back = parseLineage('lineage.json', fs.readFileSync(path.join(set.dir, 'lineage.json'), 'utf8'));
        expect(back.edges.filter((e) => e.child === m.id).every((e) => e.type === 'merge')).toBe(true);
        expect(back.families[0]).toContain(m.id);
        expect(fs.readdirSync(set.dir).filter((f) => f.endsWith('.safetensors'))).toHaveLength(5);
        if (kind === 'linear' && !fs.existsSync(path.join(dir, 'q'))) {
          const q = writeQuantizedSet({ zooDir: zoo, lineage, outDir: path.join(dir, 'q'), seed: 0 });
          expect(q.copies.map((c) => c.dtype)).toEqual(['BF16', 'F16']);
          for (const c of q.copies) expect(readHeaderSync(path.join(q.dir, `${c.id}.safetensors`)).tensors[0].dtype).toBe(c.dtype);
          const back = parseLineage('lineage.json', fs.readFileSync(path.join(q.dir, 'lineage.json'), 'utf8'));
          expect(back.edges.filter((e) => e.type === 'quantized')).toHaveLength(2);
        }
        if (kind === 'linear') {
          const [pa, pb] = m.parents;
          const got = readFloatModel(path.join(set.dir, `${m.id}.safetensors`)).get('w')!.data;
          const A = readFloatModel(path.join(zoo, `${pa.id}.safetensors`)).get('w')!.data;
          const B = readFloatModel(path.join(zoo, `${pb.id}.safetensors`)).get('w')!.data;
          got.forEach((x, i) => expect(x).toBeCloseTo(pa.weight * A[i] + pb.weight * B[i], 5));
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
