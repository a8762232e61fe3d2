/** Small pieces of lib/zoo: RNG, tasks and the Fashion-MNIST fallback, shard planning, backend report, plans. */
import { selectBackend } from '../../lib/zoo/backend';
import { IMAGE_PIXELS, ImageSet } from '../../lib/zoo/data';
import { planShards } from '../../lib/zoo/hf-writer';
import { lineageOf } from '../../lib/zoo/manifest';
import { modelId } from '../../lib/zoo/ids';
import { visionPlan } from '../../lib/zoo/presets/vision-plan';
import { Rng } from '../../lib/zoo/rng';
import { deriveTask, LABEL_DERANGEMENT, VisionTaskSet } from '../../lib/zoo/tasks';
import { byteTokenizer, wordTokenizer } from '../../lib/zoo/llama/tokenizer';
import { generateText } from '../../lib/zoo/llama/text';
import { ZooModelRecord } from '../../lib/zoo/types';

test('Rng is deterministic per seed and roughly standard normal', () => {
  const a = new Rng(42).fillNormal(new Float32Array(20000), 1);
  const b = new Rng(42).fillNormal(new Float32Array(20000), 1);
  expect(a).toEqual(b);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const varc = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  expect(Math.abs(mean)).toBeLessThan(0.03);
  expect(Math.abs(varc - 1)).toBeLessThan(0.05);
  expect(new Rng(43).next()).not.toBe(new Rng(42).next());
});

function oneImage(): ImageSet {
  const images = Float32Array.from({ length: IMAGE_PIXELS }, (_, i) => (i % 29) / 29);
  return { images, labels: Int32Array.from([3]), count: 1 };
}

test('derived tasks: rotation has order 4, a flip order 2, labels are deranged', () => {
  let r = oneImage();
  for (let i = 0; i < 4; i++) r = deriveTask('mnist-rotated', r);
  expect(r.images).toEqual(oneImage().images);
  expect(deriveTask('mnist-rotated', oneImage()).images).not.toEqual(oneImage().images);
  expect(deriveTask('mnist-flipped', deriveTask('mnist-flipped', oneImage())).images).toEqual(oneImage().images);
  LABEL_DERANGEMENT.forEach((l, i) => expect(l).not.toBe(i));
  expect(new Set(LABEL_DERANGEMENT).size).toBe(10);
  expect(deriveTask('mnist-permuted-labels', oneImage()).labels[0]).toBe(LABEL_DERANGEMENT[3]);
});

test('without Fashion-MNIST, its task falls back to an MNIST-derived one and says so', () => {
  const tasks = new VisionTaskSet(1, { mnistTest: 1000, childTrain: 200, childTest: 100 }, '/nonexistent/fashion');
  expect(tasks.resolve('fashion-mnist')).toBe('mnist-permuted-pixels');
  expect(tasks.report.fashionMnist).toMatch(/absent/);
  expect(tasks.report.substitutions.join(' ')).toMatch(/fashion-mnist → mnist-permuted-pixels/);
  const t = tasks.get('fashion-mnist');
  expect(t.name).toBe('mnist-permuted-pixels');
  expect(t.train.count).toBe(200);
  expect(tasks.get('mnist').test.count).toBe(1000);
  expect(tasks.get('mnist').train.count).toBe(9000);
});

test('the same seed gives the same MNIST split; another seed a different one', () => {
  const a = new VisionTaskSet(3, { mnistTest: 500, childTrain: 10, childTest: 10 }, '/nonexistent').get('mnist');
  const b = new VisionTaskSet(3, { mnistTest: 500, childTrain: 10, childTest: 10 }, '/nonexistent').get('mnist');
  const c = new VisionTaskSet(4, { mnistTest: 500, childTrain: 10, childTest: 10 }, '/nonexistent').get('mnist');
  expect(a.test.labels).toEqual(b.test.labels);
  expect(a.test.labels).not.toEqual(c.test.labels);
});

test('planShards: at least two shards, HF names, tensor order kept, size limit respected', () => {
  const tensors = Array.from({ length: 10 }, (_, i) => ({ name: `t${i}`, shape: [100, 10] }));
  const s = planShards(tensors, 'BF16');
  expect(s.length).toBeGreaterThanOrEqual(2);
  expect(s.map((x) => x.file)).toEqual(s.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(s.length).padStart(5, '0')}.safetensors`));
  expect(s.flatMap((x) => x.tensors.map((t) => t.name))).toEqual(tensors.map((t) => t.name));
  const capped = planShards(tensors, 'BF16', 4000);
  for (const x of capped) expect(x.bytes).toBeLessThanOrEqual(4000);
  const big = planShards([{ name: 'huge', shape: [1000] }, { name: 'small', shape: [1] }], 'F32');
  expect(big).toHaveLength(2);
});

test('vision plans: small has 4–8 families with children and grandchildren; paper follows the grid', () => {
  const small = visionPlan('small', 5);
  expect(small.filter((e) => e.generation === 0)).toHaveLength(5);
  expect(small.filter((e) => e.generation === 1)).toHaveLength(20);
  expect(small.filter((e) => e.generation === 2)).toHaveLength(5);
  const paper = visionPlan('paper', 64);
  const parents = paper.filter((e) => e.generation === 0);
  expect(parents).toHaveLength(64);
  expect(new Set(parents.map((p) => `${p.learningRate}/${p.batchSize}/${p.init}/${p.gridSeed}`)).size).toBe(64);
  expect(parents.every((p) => p.epochs === 50)).toBe(true);
  const kids = paper.filter((e) => e.parentKey === 'f0');
  expect(kids).toHaveLength(48); // 2 tasks × 3 lr × 2 batch × 4 seeds
  expect(new Set(kids.map((k) => k.learningRate))).toEqual(new Set([0.01, 0.001, 0.0001]));
  expect(kids.every((k) => k.epochs === 30)).toBe(true);
});

test('model ids are stable hashes that do not encode the plan', () => {
  expect(modelId('mnist-fc', 0, 'f0')).toBe(modelId('mnist-fc', 0, 'f0'));
  expect(modelId('mnist-fc', 0, 'f0')).not.toBe(modelId('mnist-fc', 1, 'f0'));
  expect(modelId('mnist-fc', 0, 'f0/c1')).toMatch(/^fc-[0-9a-f]{10}$/);
});

test('lineageOf groups families by root and rejects unknown parents', () => {
  const rec = (id: string, parent: string | null) => ({ id, parent }) as ZooModelRecord;
  const l = lineageOf([rec('b', 'a'), rec('a', null), rec('c', 'b'), rec('x', null)]);
  expect(l.families).toEqual([['a', 'b', 'c'], ['x']]);
  expect(l.edges).toEqual([
    { parent: 'a', child: 'b' },
    { parent: 'b', child: 'c' },
  ]);
  expect(() => lineageOf([rec('b', 'zz')])).toThrow(/not in the zoo/);
});

test('tokenizers: bytes, and whole words appended after the 256 byte ids', () => {
  expect(Array.from(byteTokenizer().encode('ab'))).toEqual([97, 98]);
  const t = wordTokenizer(['stir', 'the']);
  expect(t.vocabSize).toBe(258);
  expect(Array.from(t.encode('stir the thesis'))).toEqual([256, 32, 257, 32, ...Array.from(Buffer.from('thesis'))]);
  const text = generateText('recipes', 500, new Rng(1));
  expect(text.length).toBeGreaterThanOrEqual(500);
  expect(/^[\x20-\x7e\n]*$/.test(text)).toBe(true);
});

test('backend selection reports what runs and why the others did not', async () => {
  const r = await selectBackend('auto');
  expect(['tensorflow', 'wasm', 'cpu']).toContain(r.name);
  expect(r.attempts[r.attempts.length - 1]).toEqual({ candidate: r.package, ok: true });
  for (const a of r.attempts.slice(0, -1)) expect(a.reason).toBeTruthy();
});

test('an explicit backend that cannot start is an error naming why; auto falls back', async () => {
  const auto = await selectBackend('auto');
  const nodeFailed = auto.attempts.find((a) => a.candidate === '@tensorflow/tfjs-node' && !a.ok);
  if (nodeFailed) {
    await expect(selectBackend('node')).rejects.toThrow(/tfjs-node/);
    expect((await selectBackend('auto')).name).toBe(auto.name);
  }
  await expect(selectBackend('bogus' as never)).rejects.toThrow(/unknown tfjs backend/);
});
