/**
 * GPTQ/AWQ copies in the quantized typer (lib/detect/typing/quantized.ts): a 4-bit copy of a
 * model differs from it by about the rounding noise the format's group model predicts, so it is
 * found as that model's quantized child; a 4-bit copy of a fine-tune whose change is well above
 * that noise is not. Fresh random weights each run (NP_TEST_SEED repeats one), group sizes that
 * do not divide the input count.
 */
import * as fs from 'fs';
import * as path from 'path';
import { openModels } from '../../lib/io/discover';
import { writePackedModel } from '../../lib/io/packed-quant-writer';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { scanModelSet } from '../../lib/scan/scan';
import { findQuantized, FORMAT_NOISE, SLACK } from '../../lib/detect/typing/quantized';
import { rng, tmpDir } from '../helpers/models';

const seed = Number(process.env.NP_TEST_SEED ?? (Date.now() ^ (process.pid << 8)) >>> 0);
const SHAPES: [string, number[]][] = [
  ['model.layers.0.self_attn.q_proj.weight', [72, 200]],
  ['model.layers.0.mlp.up_proj.weight', [150, 200]],
  ['model.layers.0.mlp.down_proj.weight', [200, 150]],
];

test(`a GPTQ/AWQ 4-bit copy is typed quantized; a copy of a real fine-tune is not (seed ${seed})`, async () => {
  const dir = tmpDir('np-packed-typing-');
  const r = rng(seed);
  const write = (id: string, values: Float32Array[]) => {
    const d = path.join(dir, 'src', id);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ model_type: 'llama' }));
    writeSafetensors(path.join(d, 'model.safetensors'), SHAPES.map(([name, shape], i) => ({ name, dtype: 'F32' as const, shape, data: values[i] })));
    return d;
  };
  const base = SHAPES.map(([, s]) => Float32Array.from({ length: s[0] * s[1] }, () => 0.02 * r.normal()));
  // A fine-tune moving every weight by 0.4σ: a mean-square change of 0.16σ², ~10× GPTQ4's noise.
  const tuned = base.map((v) => v.map((x) => x + 0.4 * 0.02 * r.normal()));
  const baseDir = write('base', base);
  const tunedDir = write('tuned', tuned);
  fs.mkdirSync(path.join(dir, 'set'));
  fs.cpSync(baseDir, path.join(dir, 'set', 'base'), { recursive: true });
  const [b] = (await openModels([baseDir])).models;
  const [t] = (await openModels([tunedDir])).models;
  writePackedModel(b, path.join(dir, 'set', 'base-gptq'), { method: 'gptq', bits: 4, groupSize: 64, seed: seed & 0xffff });
  writePackedModel(b, path.join(dir, 'set', 'base-awq'), { method: 'awq', bits: 4, groupSize: 48 });
  writePackedModel(t, path.join(dir, 'set', 'tuned-gptq'), { method: 'gptq', bits: 4, groupSize: 64 });

  const set = await openModels([path.join(dir, 'set')]);
  const scan = await scanModelSet(set, { device: 'cpu' });
  const ids = scan.models.map((m) => m.id);
  const idx = (name: string) => {
    const i = ids.indexOf(name);
    expect(i).toBeGreaterThanOrEqual(0);
    return i;
  };
  const all = ids.map((_, i) => i);
  const related = ids.map(() => ids.map(() => true));
  const found = findQuantized(scan.tensors, all, related);
  const parentOf = new Map(found.map((f) => [f.child, f.parent]));
  expect(parentOf.get(idx('base-gptq'))).toBe(idx('base'));
  expect(parentOf.get(idx('base-awq'))).toBe(idx('base'));
  expect(parentOf.has(idx('tuned-gptq'))).toBe(false);
  for (const f of found) expect(f.ratio).toBeLessThanOrEqual(SLACK);
  expect(FORMAT_NOISE.GPTQ4).toBeGreaterThan(FORMAT_NOISE.GPTQ8);
  fs.rmSync(dir, { recursive: true, force: true });
});
