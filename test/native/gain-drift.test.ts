/**
 * The gain-drift direction signal (lib/detect/direction-signals.ts) on real safetensors files
 * scanned by the native core: per model, Σ(γ − 1)² over its norm gains, divided by that sum's
 * mean over the models, against a float64 computation from the written values. Biases (init 0)
 * and BatchNorm's running_var (init 1, but a data statistic) do not count; a model set without
 * gains has no value.
 */
import * as fs from 'fs';
import * as path from 'path';
import { modelSignal } from '../../lib/detect/direction-signals';
import { openModels } from '../../lib/io/discover';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { scanModelSet } from '../../lib/scan/scan';
import { rng, tmpDir } from '../helpers/models';

let root: string;
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** One model: two LayerNorm gains (lengths 16 and 37, not a multiple of any block), a matrix,
 * a bias and a running_var, the gains at 1 plus noise of the given spread. */
function write(file: string, seed: number, spread: number, gains = true): Map<string, Float32Array> {
  const r = rng(seed);
  const vec = (n: number, centre: number, s: number) => Float32Array.from({ length: n }, () => centre + s * r.normal());
  const t = new Map<string, Float32Array>([
    ['fc.weight', vec(8 * 16, 0, 0.1)],
    ['fc.bias', vec(8, 0, 0.05)],
    ['bn.running_var', vec(16, 1, 0.3)],
  ]);
  if (gains) {
    t.set('ln1.weight', vec(16, 1, spread));
    t.set('ln2.weight', vec(37, 1, spread));
  }
  const shapes: Record<string, number[]> = { 'fc.weight': [8, 16] };
  writeSafetensors(
    file,
    [...t].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: shapes[name] ?? [data.length], data })),
  );
  return t;
}

test('gain-drift equals Σ(γ − 1)² over the norm gains, each scaled by its mean over models', async () => {
  root = tmpDir('np-gain-drift-');
  const dir = path.join(root, 'with');
  fs.mkdirSync(dir);
  const written = [0.05, 0.2, 0.4].map((spread, i) => write(path.join(dir, `m${i}.safetensors`), 11 + i, spread));
  const set = await openModels([dir]);
  const scan = await scanModelSet(set, { device: 'cpu' });
  const got = modelSignal('gain-drift', scan.tensors, scan.models.length);
  const drift = (x: Float32Array) => x.reduce((a, v) => a + (v - 1) ** 2, 0);
  const byId = new Map(scan.models.map((m, i) => [m.id, i]));
  const gains = ['ln1.weight', 'ln2.weight'];
  const mean = (name: string) => written.reduce((a, w) => a + drift(w.get(name)!), 0) / written.length;
  written.forEach((w, i) => {
    const want = gains.reduce((a, name) => a + drift(w.get(name)!) / mean(name), 0) / gains.length;
    expect(got[byId.get(`m${i}`)!]).toBeCloseTo(want, 9);
  });
  // Wider spread, more drift: the signal orders the models as their gains' distance from 1.
  expect(got[byId.get('m0')!]).toBeLessThan(got[byId.get('m1')!]);
  expect(got[byId.get('m1')!]).toBeLessThan(got[byId.get('m2')!]);

  const none = path.join(root, 'without');
  fs.mkdirSync(none);
  [0, 1].forEach((i) => write(path.join(none, `m${i}.safetensors`), 21 + i, 0.1, false));
  const plain = await scanModelSet(await openModels([none]), { device: 'cpu' });
  expect([...modelSignal('gain-drift', plain.tensors, plain.models.length)].every(Number.isNaN)).toBe(true);
});
