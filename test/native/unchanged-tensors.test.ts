/**
 * Unchanged tensors end to end (unchangedTensors 'connect', an option, not the default), on
 * real safetensors files scanned by the addon: a parent P, a
 * last-layer fine-tune A (only the head changed), a LoRA-style fine-tune S of P (only the
 * body changed) and a LoRA-style grandchild G under A whose body update nearly repeats S's
 * (the same task). By distance alone G is nearest S; but G holds A's head bit-identical,
 * which P and S do not, so hanging G under S would have its head changed and changed back.
 */
import * as path from 'path';
import { detect } from '../../lib/detect';
import { tensorChanges } from '../../lib/detect/unchanged-tensors';
import { openModels } from '../../lib/io/discover';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { scanModelSet } from '../../lib/scan/scan';
import type { ScanResult } from '../../lib/scan/types';
import { rng, tmpDir } from '../helpers/models';

type Weights = Record<string, Float32Array>;
// Shapes that are no multiple of any block size.
const SHAPES: Record<string, number[]> = { 'body.0.weight': [37, 53], 'body.1.weight': [29, 37], 'head.weight': [10, 29], 'head.bias': [10] };

function randomLike(shape: number[], scale: number, r: ReturnType<typeof rng>): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * r.normal());
}

function plus(a: Float32Array, b: Float32Array, s = 1): Float32Array {
  return Float32Array.from(a, (x, i) => x + s * b[i]);
}

/** A rank-`rank` update of a rows×cols matrix. */
function lowRank(rows: number, cols: number, rank: number, scale: number, r: ReturnType<typeof rng>): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let k = 0; k < rank; k++) {
    const u = randomLike([rows], scale, r);
    const v = randomLike([cols], 1 / Math.sqrt(cols), r);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] += u[i] * v[j];
  }
  return out;
}

let scan: ScanResult;
const ids = { P: 'P', A: 'A', S: 'S', G: 'G', B: 'B' };

beforeAll(async () => {
  const r = rng(5);
  const dir = tmpDir('np-unchanged-');
  const P: Weights = Object.fromEntries(Object.entries(SHAPES).map(([k, s]) => [k, randomLike(s, 0.2, r)]));
  const A: Weights = { ...P, 'head.weight': plus(P['head.weight'], randomLike(SHAPES['head.weight'], 0.15, r)), 'head.bias': plus(P['head.bias'], randomLike([10], 0.15, r)) };
  const loraS: Weights = { 'body.0.weight': lowRank(37, 53, 4, 0.5, r), 'body.1.weight': lowRank(29, 37, 4, 0.5, r) };
  const S: Weights = { ...P, 'body.0.weight': plus(P['body.0.weight'], loraS['body.0.weight']), 'body.1.weight': plus(P['body.1.weight'], loraS['body.1.weight']) };
  // G's update: S's and a little of its own.
  const G: Weights = {
    ...A,
    'body.0.weight': plus(plus(A['body.0.weight'], loraS['body.0.weight']), lowRank(37, 53, 4, 0.05, r)),
    'body.1.weight': plus(plus(A['body.1.weight'], loraS['body.1.weight']), lowRank(29, 37, 4, 0.05, r)),
  };
  // A full fine-tune of P, so the family is not a chain.
  const B: Weights = Object.fromEntries(Object.entries(P).map(([k, v]) => [k, plus(v, randomLike(SHAPES[k], 0.05, r))]));
  for (const [id, w] of Object.entries({ P, A, S, G, B })) {
    writeSafetensors(
      path.join(dir, `${id}.safetensors`),
      Object.entries(w).map(([name, data]) => ({ name, dtype: 'F32' as const, shape: SHAPES[name], data })),
    );
  }
  scan = await scanModelSet(await openModels([dir]), { device: 'cpu' });
});

function undirected(r: ReturnType<typeof detect>): string[] {
  return r.edges.map((e) => [e.parent, e.child].sort().join('-')).sort();
}

test('the scan sees which tensors each pair holds identically', () => {
  const order = scan.models.map((m) => m.id);
  const at = (id: string) => order.indexOf(id);
  const family = [at(ids.P), at(ids.A), at(ids.S), at(ids.G), at(ids.B)];
  const D = tensorChanges(scan.tensors, family)!;
  // All four tensors are shared by some pair; P and A differ in the two head tensors, P and S
  // in the two body tensors, A and G likewise, S and G in all four.
  const n = 5;
  expect(D[0 * n + 1]).toBe(2);
  expect(D[0 * n + 2]).toBe(2);
  expect(D[1 * n + 3]).toBe(2);
  expect(D[2 * n + 3]).toBe(4);
  expect(D[0 * n + 4]).toBe(4);
  expect(tensorChanges(scan.tensors, [at(ids.B), at(ids.G)])).toBeNull();
});

test('siblings that decayed an unused tensor alike constrain nothing', async () => {
  // P with two full fine-tunes C1, C2 and a grandchild G under C1; 'pooler.weight' gets no
  // gradient, so weight decay leaves C1 and C2 (one recipe) the same multiple of P's, and G a
  // further multiple of C1's. Identical in C1 and C2 but not in P, between them in the tree.
  const r = rng(9);
  const dir = tmpDir('np-decayed-');
  const shapes: Record<string, number[]> = { 'body.weight': [41, 23], 'pooler.weight': [23, 23] };
  const P: Weights = { 'body.weight': randomLike(shapes['body.weight'], 0.2, r), 'pooler.weight': randomLike(shapes['pooler.weight'], 0.2, r) };
  const decay = (w: Float32Array, f: number) => Float32Array.from(w, (x) => Math.fround(x * f));
  const C1: Weights = { 'body.weight': plus(P['body.weight'], randomLike(shapes['body.weight'], 0.1, r)), 'pooler.weight': decay(P['pooler.weight'], 0.99) };
  const C2: Weights = { 'body.weight': plus(P['body.weight'], randomLike(shapes['body.weight'], 0.1, r)), 'pooler.weight': decay(P['pooler.weight'], 0.99) };
  const G: Weights = { 'body.weight': plus(C1['body.weight'], randomLike(shapes['body.weight'], 0.1, r)), 'pooler.weight': decay(C1['pooler.weight'], 0.99) };
  for (const [id, w] of Object.entries({ P, C1, C2, G })) {
    writeSafetensors(
      path.join(dir, `${id}.safetensors`),
      Object.entries(w).map(([name, data]) => ({ name, dtype: 'F32' as const, shape: shapes[name], data })),
    );
  }
  const decayed = await scanModelSet(await openModels([dir]), { device: 'cpu' });
  expect(tensorChanges(decayed.tensors, [0, 1, 2, 3])).toBeNull();
  expect(undirected(detect(decayed, { unchangedTensors: 'connect' }))).toEqual(['C1-G', 'C1-P', 'C2-P']);
});

test('distances alone hang G under S; its unchanged head puts it under A', () => {
  const ignored = detect(scan);
  expect(ignored.options.unchangedTensors).toBe('ignore');
  expect(undirected(ignored)).toContain('G-S');
  const connected = detect(scan, { unchangedTensors: 'connect' });
  expect(undirected(connected)).toEqual(['A-G', 'A-P', 'B-P', 'P-S']);
});

test('why connect is not the default: a layer-wise merge becomes the hub of its sources', async () => {
  // Siblings A, B, C of P (full fine-tunes) and M, the first two layers of A and the last two
  // of B. Identity cannot tell M from a parent whose two partial fine-tunes are A and B.
  const r = rng(13);
  const dir = tmpDir('np-layer-merge-');
  const shapes: Record<string, number[]> = { 'l0.weight': [40, 30], 'l1.weight': [30, 30], 'l2.weight': [30, 30], 'l3.weight': [10, 30] };
  const P: Weights = Object.fromEntries(Object.entries(shapes).map(([k, sh]) => [k, randomLike(sh, 0.2, r)]));
  const tune = (w: Weights): Weights => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, plus(v, randomLike(shapes[k], 0.05, r))]));
  const A = tune(P);
  const B = tune(P);
  const C = tune(P);
  const M: Weights = { 'l0.weight': A['l0.weight'], 'l1.weight': A['l1.weight'], 'l2.weight': B['l2.weight'], 'l3.weight': B['l3.weight'] };
  for (const [id, w] of Object.entries({ P, A, B, C, M })) {
    writeSafetensors(
      path.join(dir, `${id}.safetensors`),
      Object.entries(w).map(([name, data]) => ({ name, dtype: 'F32' as const, shape: shapes[name], data })),
    );
  }
  const merged = await scanModelSet(await openModels([dir]), { device: 'cpu' });
  // By distance under one increment correlation M is one more child of P, its sources stay
  // P's children. The forgetting refit (the default) moves M under A, its nearest model: half
  // of M is A's, the other half reads as A's increment partly undone, and its tensors tie two
  // to two between A and P.
  expect(undirected(detect(merged, { forgetting: 'ignore' }))).toEqual(['A-P', 'B-P', 'C-P', 'M-P']);
  expect(undirected(detect(merged))).toEqual(['A-M', 'A-P', 'B-P', 'C-P']);
  // Kept connected to both sources, M takes them from P.
  const connected = undirected(detect(merged, { unchangedTensors: 'connect' }));
  expect(connected).toContain('A-M');
  expect(connected).toContain('B-M');
});
