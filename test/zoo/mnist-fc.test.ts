/**
 * Builds the mnist-fc small zoo once (real training) and checks what models.json, lineage.json
 * and the safetensors files claim: accuracies, fine-tuning gains, lineage, layout, determinism.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { buildZoo, ensureZoo, zooIsCurrent, ZooSummary } from '../../lib/zoo';
import { detect } from '../../lib/detect';
import { evaluateMethods } from '../../lib/eval/compare';
import { evaluate } from '../../lib/eval/metrics';
import { openModels } from '../../lib/io/discover';
import { scanModelSet } from '../../lib/scan/scan';
import { VisionTaskSet } from '../../lib/zoo/tasks';
import { IMAGE_PIXELS } from '../../lib/zoo/data';
import { parseSafetensors, tensorValues } from './helpers/safetensors';
import { tempDir } from './helpers/tmp';

const SEED = 11;
let zoo: ZooSummary;
let tmp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  tmp = tempDir('fc');
  zoo = await buildZoo({ preset: 'mnist-fc', outDir: tmp.dir, seed: SEED });
}, 900_000);
afterAll(() => tmp?.cleanup());

const byGen = (g: number) => zoo.models.filter((m) => m.generation === g);

test('several families, each with children and a grandchild', () => {
  expect(tf.memory().numTensors).toBe(0); // every training and evaluation freed its tensors
  expect(byGen(0).length).toBeGreaterThanOrEqual(4);
  expect(byGen(1).length).toBeGreaterThanOrEqual(3 * byGen(0).length);
  expect(byGen(2).length).toBeGreaterThanOrEqual(3);
  expect(zoo.models.length).toBeGreaterThanOrEqual(20);
  expect(zoo.models.length).toBeLessThanOrEqual(40);
  expect(zoo.backend?.name).toBeTruthy();
  for (const m of zoo.models) expect(m.backend).toBe(zoo.backend?.name);
});

test('every MNIST parent reaches more than 90% held-out accuracy', () => {
  for (const p of byGen(0)) {
    expect(p.task.name).toBe('mnist');
    expect(p.accuracy).toBeGreaterThan(0.9);
  }
});

test('every fine-tuned model beats its parent on its own task', () => {
  for (const c of zoo.models.filter((m) => m.parent)) {
    expect(c.parentAccuracyOnTask).not.toBeNull();
    expect(c.accuracy as number).toBeGreaterThan((c.parentAccuracyOnTask as number) + 0.05);
  }
});

test('models.json records task, every hyperparameter, initialisation, loss and accuracy', () => {
  for (const m of zoo.models) {
    expect(m.architecture.name).toBe('mlp-784-64-10');
    for (const k of ['optimizer', 'learningRate', 'batchSize', 'epochs', 'steps', 'beta1', 'beta2', 'epsilon']) expect(m.hyperparameters).toHaveProperty(k);
    expect(m.epochs).toBeGreaterThan(0);
    expect(m.lossHistory).toHaveLength(m.epochs as number);
    expect(m.finalLoss).toBe(m.lossHistory[m.lossHistory.length - 1]);
    expect(m.lossHistory[m.lossHistory.length - 1]).toBeLessThan(m.lossHistory[0]);
    expect(m.task.trainSamples).toBeGreaterThan(1000);
    if (m.parent) expect(m.initialization.fineTunedFrom).toBe(m.parent);
    else expect(['kaiming-uniform', 'kaiming-normal']).toContain(m.initialization.scheme);
  }
  const lrs = new Set(byGen(0).map((m) => m.hyperparameters.learningRate));
  const batches = new Set(byGen(0).map((m) => m.hyperparameters.batchSize));
  const inits = new Set(byGen(0).map((m) => m.initialization.scheme));
  expect([lrs.size, batches.size, inits.size]).toEqual([2, 2, 2]);
  expect(new Set(byGen(1).map((m) => m.task.name)).size).toBeGreaterThanOrEqual(3);
});

test('lineage.json matches models.json and ids do not reveal lineage', () => {
  const lineage = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'lineage.json'), 'utf8'));
  const expected = zoo.models.filter((m) => m.parent).map((m) => ({ parent: m.parent, child: m.id }));
  expect(new Set(lineage.edges.map((e: { parent: string; child: string }) => `${e.parent}>${e.child}`))).toEqual(new Set(expected.map((e) => `${e.parent}>${e.child}`)));
  const ids = zoo.models.map((m) => m.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(lineage.families.flat().sort()).toEqual([...ids].sort());
  expect(lineage.families).toHaveLength(byGen(0).length);
  for (const fam of lineage.families as string[][]) {
    const roots = fam.filter((id) => zoo.models.find((m) => m.id === id)?.parent === null);
    expect(roots).toHaveLength(1);
  }
  for (const id of ids) expect(id).toMatch(/^fc-[0-9a-f]{10}$/);
  // models.json lists models by id, not by generation.
  expect(ids).toEqual([...ids].sort());
  expect(zoo.models.map((m) => m.generation)).not.toEqual([...zoo.models.map((m) => m.generation)].sort());
});

test('files are valid safetensors with PyTorch names, layout and F32', () => {
  for (const m of zoo.models) {
    const f = parseSafetensors(path.join(tmp.dir, m.path));
    expect(m.path).toBe(`${m.id}.safetensors`);
    expect([...f.tensors.keys()].sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
    expect(f.tensors.get('fc1.weight')).toMatchObject({ dtype: 'F32', shape: [64, 784] });
    expect(f.tensors.get('fc1.bias')?.shape).toEqual([64]);
    expect(f.tensors.get('fc2.weight')?.shape).toEqual([10, 64]);
    expect(f.metadata).toEqual({ format: 'pt' });
  }
});

test('a parent read back from its file in PyTorch layout reproduces its recorded accuracy', () => {
  const p = byGen(0)[0];
  const f = parseSafetensors(path.join(tmp.dir, p.path));
  const [w1, b1, w2, b2] = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'].map((n) => tensorValues(f, n));
  const test = new VisionTaskSet(SEED, { mnistTest: 2000, childTrain: 3000, childTest: 2000 }).get('mnist').test;
  let hits = 0;
  const h = new Float64Array(64);
  for (let i = 0; i < test.count; i++) {
    const x = test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
    for (let o = 0; o < 64; o++) {
      let s = b1[o];
      for (let k = 0; k < IMAGE_PIXELS; k++) s += w1[o * IMAGE_PIXELS + k] * x[k]; // y = x·Wᵀ + b, W [out, in]
      h[o] = Math.max(0, s);
    }
    let best = -1;
    let bestV = -Infinity;
    for (let c = 0; c < 10; c++) {
      let s = b2[c];
      for (let k = 0; k < 64; k++) s += w2[c * 64 + k] * h[k];
      if (s > bestV) [best, bestV] = [c, s];
    }
    if (best === test.labels[i]) hits++;
  }
  expect(Math.abs(hits / test.count - (p.accuracy as number))).toBeLessThan(0.005);
});

test('fine-tuning changed every tensor and kept names and shapes', () => {
  for (const c of zoo.models.filter((m) => m.parent)) {
    const fc = parseSafetensors(path.join(tmp.dir, c.path));
    const fp = parseSafetensors(path.join(tmp.dir, `${c.parent}.safetensors`));
    for (const [name, t] of fc.tensors) {
      expect(fp.tensors.get(name)?.shape).toEqual(t.shape);
      const a = tensorValues(fc, name);
      const b = tensorValues(fp, name);
      let d = 0;
      for (let i = 0; i < a.length; i++) d += (a[i] - b[i]) ** 2;
      expect(d).toBeGreaterThan(0);
    }
  }
});

test('the same seed gives identical bytes (one-family build against the full zoo)', async () => {
  const again = tempDir('fc-again');
  try {
    const one = await buildZoo({ preset: 'mnist-fc', outDir: again.dir, seed: SEED, families: 1 });
    expect(one.models.length).toBeGreaterThanOrEqual(5);
    for (const m of one.models) {
      const a = fs.readFileSync(path.join(again.dir, m.path));
      const b = fs.readFileSync(path.join(tmp.dir, m.path));
      expect(a.equals(b)).toBe(true);
    }
  } finally {
    again.cleanup();
  }
}, 300_000);

test('ensureZoo reuses a current zoo and rejects one built with other options', async () => {
  const reused = await ensureZoo({ preset: 'mnist-fc', seed: SEED, outDir: tmp.dir });
  expect(reused.cached).toBe(true);
  expect(reused.models.map((m) => m.id)).toEqual(zoo.models.map((m) => m.id));
  expect(zooIsCurrent(tmp.dir, { preset: 'mnist-fc', seed: SEED + 1 })).toBe(false);
  expect(zooIsCurrent(tmp.dir, { preset: 'mnist-fc', seed: SEED, families: 2 })).toBe(false);
});

// End to end on real trained families (seed 11 was never used while designing the methods):
// discover -> native scan -> default method. Over mnist-fc seeds 0-4 the default reached
// 92.0 ± 4.9% directed-edge accuracy (84% at worst) and recovered every family exactly
// (README, `npm run eval:paper`); the bound below leaves room for one bad zoo, not for a
// regression to the old default's ~67%.
test('detection: the default method recovers the lineage of this zoo', async () => {
  const set = await openModels([tmp.dir]);
  expect(set.lineage?.edges.length).toBe(zoo.lineage.edges.length);
  const scan = await scanModelSet(set);
  const result = detect(scan);
  const m = evaluate(result, set.lineage!);
  expect(m.ari).toBe(1);
  expect(m.edgeAccuracy).toBeGreaterThanOrEqual(0.8);
  // Every learning-free method returns a forest over the same models.
  for (const r of evaluateMethods(scan, set.lineage!)) {
    expect(r.result.models).toHaveLength(zoo.models.length);
    const children = r.result.edges.map((e) => e.child);
    expect(new Set(children).size).toBe(children.length);
  }
}, 300_000);
