/**
 * The tiny-unet zoo, one family at a few steps: each model is a diffusers pipeline folder read
 * as one model with the manifest's id, and detection links the true edges of the family.
 * The parent gets 60 steps and the fine-tunes 10: with a parent trained much less (20–30 steps),
 * every child mostly keeps learning the shared denoising task, the children end up nearer each
 * other than their parent, and the family reads as a chain — a property of so short a parent,
 * not of the scanner.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildZoo, ZooSummary } from '../../lib/zoo';
import { detect } from '../../lib/detect';
import { openModels } from '../../lib/io/discover';
import { scanModelSet } from '../../lib/scan/scan';
import { tempDir } from './helpers/tmp';

let zoo: ZooSummary;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  tmp = tempDir('tiny-unet');
  zoo = await buildZoo({ preset: 'tiny-unet', outDir: tmp.dir, seed: 1, families: 1, unetSteps: { parent: 60, child: 10 } });
}, 300_000);
afterAll(() => tmp?.cleanup());

test('writes one DDPM pipeline folder per model, with the family shape and its records', () => {
  expect(zoo.models.map((m) => m.generation).sort()).toEqual([0, 1, 1, 1, 2]);
  const parent = zoo.models.find((m) => m.generation === 0)!;
  const children = zoo.models.filter((m) => m.generation === 1);
  const grandchild = zoo.models.find((m) => m.generation === 2)!;
  for (const c of children) expect(c.parent).toBe(parent.id);
  expect(children.map((c) => c.id)).toContain(grandchild.parent);
  expect(new Set([...children, grandchild].map((m) => m.hyperparameters.class)).size).toBe(4);
  for (const m of zoo.models) {
    expect([m.path, m.format]).toEqual([m.id, 'hf-dir']);
    const unet = path.join(zoo.outDir, m.id, 'unet');
    expect(fs.existsSync(path.join(unet, 'diffusion_pytorch_model.safetensors'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(unet, 'config.json'), 'utf8'))._class_name).toBe('UNet2DModel');
    expect(m.hyperparameters).toMatchObject({ loss: 'DDPM ε-prediction MSE', steps: m.generation === 0 ? 60 : 10 });
    expect(Number.isFinite(m.heldOutLoss)).toBe(true);
    if (m.parent) expect(Number.isFinite(m.parentHeldOutLossOnTask)).toBe(true);
    if (m.parent) expect(m.task.trainSamples).toBe(5);
  }
  expect(zoo.lineage.edges).toHaveLength(4);
});

test('the scanner reads each folder as one model named by its id, and detection links the true edges', async () => {
  const set = await openModels([zoo.outDir]);
  expect(set.models.map((m) => m.id).sort()).toEqual(zoo.models.map((m) => m.id).sort());
  for (const m of set.models) {
    expect(m.format).toBe('diffusers');
    expect(m.tensors.some((t) => t.name === 'unet/conv_in.weight')).toBe(true);
  }
  const scan = await scanModelSet(set, { device: 'cpu' });
  const r = detect(scan);
  const undirected = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
  const found = new Set(r.edges.map((e) => undirected(e.parent, e.child)));
  const missing = zoo.lineage.edges.filter((e) => !found.has(undirected(e.parent, e.child)));
  expect(missing).toEqual([]);
});
