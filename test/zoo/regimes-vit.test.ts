/**
 * The regimes zoo with the ViT (regimeNet 'vit'), one regime built for real: five models whose
 * files hold exactly transformers' ViTForImageClassification tensors, a parent that learns MNIST,
 * and a scan and detection over them that link the true edges.
 */
import * as path from 'path';
import { buildZoo, ZooSummary } from '../../lib/zoo';
import { detect } from '../../lib/detect';
import { openModels } from '../../lib/io/discover';
import { scanModelSet } from '../../lib/scan/scan';
import { createVit } from '../../lib/zoo/vit';
import { parseSafetensors } from './helpers/safetensors';
import { tempDir } from './helpers/tmp';

let zoo: ZooSummary;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  tmp = tempDir('regimes-vit');
  zoo = await buildZoo({ preset: 'regimes', outDir: tmp.dir, seed: 2, regimes: ['tiny'], regimeNet: 'vit' });
}, 600_000);
afterAll(() => tmp?.cleanup());

test('five ViTs in transformers layout; the parent learns MNIST', () => {
  expect(zoo.models.length).toBe(5);
  expect(zoo.models[0].architecture.name).toBe('vit-p7-d32-l2-h2-m64');
  const net = createVit();
  for (const m of zoo.models) {
    const f = parseSafetensors(path.join(zoo.outDir, `${m.id}.safetensors`));
    expect([...f.tensors.keys()].sort()).toEqual(net.params.map((p) => p.name).sort());
    for (const p of net.params) expect([p.name, f.tensors.get(p.name)!.dtype, f.tensors.get(p.name)!.shape]).toEqual([p.name, 'F32', p.torchShape]);
  }
  const parent = zoo.models.find((m) => m.parent === null)!;
  expect(parent.accuracy!).toBeGreaterThan(0.5);
});

test('the scan and detection run and link the true edges', async () => {
  const set = await openModels([zoo.outDir]);
  const scan = await scanModelSet(set, { device: 'cpu' });
  expect(scan.models.length).toBe(5);
  const r = detect(scan);
  const truth = new Set(zoo.lineage.edges.flatMap((e) => [`${e.parent}>${e.child}`, `${e.child}>${e.parent}`]));
  const linked = r.edges.filter((e) => truth.has(`${e.parent}>${e.child}`));
  // Every model is placed, and all true edges but at most one are found (direction aside): the
  // child of 20 Adam steps at lr 1e-5 sits so close to the parent that a sibling may hang from
  // either (at this seed one does).
  expect(r.edges.length).toBe(4);
  expect(linked.length).toBeGreaterThanOrEqual(zoo.lineage.edges.length - 1);
});
