/**
 * The regimes zoo (lib/zoo/regimes.ts), two regimes built for real: partial fine-tunes leave
 * the untrained tensors bit-identical, LoRA-style children change each weight matrix by a
 * rank-4 update and no bias, mixed families train children under other optimizers than their
 * parent, and models.json records every regime setting.
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { buildZoo, ZooSummary } from '../../lib/zoo';
import { regimePlan, REGIMES, parseRegimes } from '../../lib/zoo/regimes';
import { InvalidArgumentError } from '../../lib/errors';
import { parseSafetensors, ParsedFile, tensorValues } from './helpers/safetensors';
import { tempDir } from './helpers/tmp';

let zoo: ZooSummary;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  tmp = tempDir('regimes');
  zoo = await buildZoo({ preset: 'regimes', outDir: tmp.dir, seed: 5, regimes: ['partial', 'mixed'] });
}, 600_000);
afterAll(() => tmp?.cleanup());

const file = (id: string): ParsedFile => parseSafetensors(path.join(zoo.outDir, `${id}.safetensors`));
const raw = (f: ParsedFile, name: string): Buffer => {
  const t = f.tensors.get(name)!;
  return f.bytes.subarray(f.dataStart + t.begin, f.dataStart + t.end);
};
const parentOf = (id: string) => zoo.models.find((m) => m.id === id)!.parent!;

test('two families of five, lineage and regimes recorded, no tensor leaked', () => {
  expect(tf.memory().numTensors).toBe(0);
  expect(zoo.models.length).toBe(10);
  expect(zoo.lineage.edges.length).toBe(8);
  expect(zoo.lineage.families.length).toBe(2);
  for (const m of zoo.models) {
    expect(['partial', 'mixed']).toContain(m.hyperparameters.regime);
    for (const k of ['optimizer', 'learningRate', 'weightDecay', 'schedule', 'steps', 'update', 'batchSize']) expect(m.hyperparameters).toHaveProperty(k);
  }
});

test('last-layer children: every other tensor bit-identical to the parent, the last layer changed', () => {
  const lastOnly = zoo.models.filter((m) => m.hyperparameters.update === 'last-layer');
  expect(lastOnly.length).toBe(2);
  for (const c of lastOnly) {
    const [a, b] = [file(parentOf(c.id)), file(c.id)];
    expect(raw(b, 'fc1.weight').equals(raw(a, 'fc1.weight'))).toBe(true);
    expect(raw(b, 'fc1.bias').equals(raw(a, 'fc1.bias'))).toBe(true);
    expect(raw(b, 'fc2.weight').equals(raw(a, 'fc2.weight'))).toBe(false);
  }
});

test('LoRA-style children: biases bit-identical, each weight update of rank 4', () => {
  const lora = zoo.models.filter((m) => m.hyperparameters.update === 'lora');
  expect(lora.length).toBe(2);
  for (const c of lora) {
    const [a, b] = [file(parentOf(c.id)), file(c.id)];
    for (const bias of ['fc1.bias', 'fc2.bias']) expect(raw(b, bias).equals(raw(a, bias))).toBe(true);
    for (const [name, rows, cols] of [['fc1.weight', 64, 784], ['fc2.weight', 10, 64]] as const) {
      const wa = tensorValues(a, name);
      const wb = tensorValues(b, name);
      const d = new Matrix(rows, cols);
      for (let i = 0; i < rows * cols; i++) d.set(Math.floor(i / cols), i % cols, wb[i] - wa[i]);
      const s = new SingularValueDecomposition(d, { autoTranspose: true }).diagonal;
      expect(s[3]).toBeGreaterThan(0);
      // Beyond rank 4 only float32 rounding of the merged weights remains.
      expect(s[4] / s[0]).toBeLessThan(1e-3);
    }
  }
});

test('mixed: every child trained under another optimizer than its parent', () => {
  const mixed = zoo.models.filter((m) => m.hyperparameters.regime === 'mixed');
  const parent = mixed.find((m) => m.generation === 0)!;
  expect(parent.hyperparameters.optimizer).toBe('sgd-momentum');
  const kinds = mixed.filter((m) => m.generation === 1).map((m) => `${m.hyperparameters.optimizer} ${m.hyperparameters.weightDecay}`);
  expect(kinds.sort()).toEqual(['adam 0', 'adamw 0.1', 'sgd 0.01']);
});

test('the plan: every regime, several families, regimes validated by name', () => {
  const plan = regimePlan([...REGIMES], 2, 0);
  expect(plan.length).toBe(REGIMES.length * 2 * 5);
  expect(new Set(plan.filter((e) => e.generation === 0).map((e) => e.init)).size).toBe(5);
  expect(() => parseRegimes(['adam', 'rmsprop'])).toThrow(InvalidArgumentError);
  expect(() => parseRegimes(['adam', 'rmsprop'])).toThrow(/unknown regime 'rmsprop'/);
});
