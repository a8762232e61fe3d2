/**
 * The regimes zoo with the BatchNorm CNN (regimeNet 'cnn-bn'), one regime built for real:
 * checkpoints hold BatchNorm's running statistics (F32) and int64 num_batches_tracked scalars
 * as PyTorch saves them; the counter continues the parent's through fine-tuning (one per
 * training step); the scan reads the counters and detection uses them.
 */
import * as path from 'path';
import { buildZoo, ZooSummary } from '../../lib/zoo';
import { detect } from '../../lib/detect';
import { openModels } from '../../lib/io/discover';
import { scanModelSet } from '../../lib/scan/scan';
import { parseSafetensors } from './helpers/safetensors';
import { tempDir } from './helpers/tmp';

let zoo: ZooSummary;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  tmp = tempDir('regimes-cnn');
  zoo = await buildZoo({ preset: 'regimes', outDir: tmp.dir, seed: 2, regimes: ['tiny'], regimeNet: 'cnn-bn' });
}, 600_000);
afterAll(() => tmp?.cleanup());

/** The int64 value of a scalar tensor, read from the file's bytes. */
function counter(id: string, name: string): bigint {
  const f = parseSafetensors(path.join(zoo.outDir, `${id}.safetensors`));
  const t = f.tensors.get(name)!;
  expect([t.dtype, t.shape, t.end - t.begin]).toEqual(['I64', [], 8]);
  return f.bytes.readBigInt64LE(f.dataStart + t.begin);
}

test('BatchNorm buffers saved as PyTorch does; counters continue the parent\'s count', () => {
  expect(zoo.models.length).toBe(5);
  expect(zoo.models[0].architecture.name).toBe('cnn-bn-c8-c16');
  const f = parseSafetensors(path.join(zoo.outDir, `${zoo.models[0].id}.safetensors`));
  for (const n of ['bn1', 'bn2']) {
    expect(f.tensors.get(`${n}.running_mean`)!.dtype).toBe('F32');
    expect(f.tensors.get(`${n}.running_var`)!.dtype).toBe('F32');
    expect(f.tensors.get(`${n}.weight`)!.shape).toEqual([n === 'bn1' ? 8 : 16]);
  }
  for (const m of zoo.models) {
    const own = Number(m.hyperparameters.steps);
    const expected = m.parent === null ? own : Number(counter(m.parent, 'bn1.num_batches_tracked')) + own;
    expect(Number(counter(m.id, 'bn1.num_batches_tracked'))).toBe(expected);
    expect(counter(m.id, 'bn2.num_batches_tracked')).toBe(counter(m.id, 'bn1.num_batches_tracked'));
  }
});

test('the scan reads the counters and every edge detection links is directed parent first', async () => {
  const set = await openModels([zoo.outDir]);
  const scan = await scanModelSet(set, { device: 'cpu' });
  expect(scan.counters!.map((c) => c.name)).toEqual(['bn1.num_batches_tracked', 'bn2.num_batches_tracked']);
  const r = detect(scan);
  expect((r.options.directionWeights as Record<string, number>)['step-counter']).toBeGreaterThan(6);
  const truth = new Set(zoo.lineage.edges.flatMap((e) => [`${e.parent}>${e.child}`, `${e.child}>${e.parent}`]));
  const linked = r.edges.filter((e) => truth.has(`${e.parent}>${e.child}`));
  expect(linked.length).toBeGreaterThan(0);
  const trueDirected = new Set(zoo.lineage.edges.map((e) => `${e.parent}>${e.child}`));
  for (const e of linked) expect(trueDirected.has(`${e.parent}>${e.child}`)).toBe(true);
});
