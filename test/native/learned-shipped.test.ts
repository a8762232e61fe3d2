/**
 * The detector shipped in the package (detectors/default/, trained by `npm run
 * train:shipped`): it loads and passes the store's checks, `detect --method learned` and
 * `eval --methods learned` use it when no detector is named, `--detector DIR` still
 * overrides it, and a tampered copy is refused naming its directory. The zoo is the small
 * 3-family mnist-fc zoo (18 models) that ensureZoo caches, a preset the shipped detector was
 * not trained on.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/models';
import { parseDetectionJson } from '../../lib/report';
import { DEFAULT_TREE_GATE, DETECTOR_FORMAT, detectLearned, loadDetector, readDetectorManifest, disposeDetector, shippedDetectorDir } from '../../lib/learned';
import { openModels } from '../../lib/io/discover';
import { scanModelSet } from '../../lib/scan/scan';
import { ensureZoo } from '../../lib/zoo';

jest.setTimeout(5 * 60 * 1000);

describe('the shipped learned detector', () => {
  const dir = shippedDetectorDir();
  const tmp = tmpDir('np-shipped-');
  let zooDir = '';

  beforeAll(async () => {
    zooDir = (await ensureZoo({ preset: 'mnist-fc', seed: 0, families: 3 })).outDir;
  });

  it('is a small detector directory that loads and validates', () => {
    const m = readDetectorManifest(dir);
    expect(m.format).toBe(DETECTOR_FORMAT);
    // Trained on the regimes zoos by the recipe docs/learned.md names.
    expect(JSON.stringify(m.training.zoos)).toMatch(/regimes seed 0/);
    const bytes = fs.readdirSync(dir).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
    expect(bytes).toBeLessThan(400 * 1024);
    const { model } = loadDetector(dir);
    expect(model.config.dModel).toBeGreaterThan(0);
    // Its tree-input features are computed as in its training, not with today's defaults.
    expect(model.config.treeOptions).toEqual(m.config.treeOptions ?? { familyFlip: 0.2, familyNoise: null });
    disposeDetector(model);
  });

  it('detect --method learned with no --detector uses it, on a zoo it was not trained on', async () => {
    const out = path.join(tmp, 'r.json');
    const r = await runCli(['detect', zooDir, '--method', 'learned', '--format', 'json', '--out', out, '-q']);
    expect(r.code).toBe(0);
    const result = parseDetectionJson(fs.readFileSync(out, 'utf8'));
    expect(result.method).toBe('learned');
    expect(result.options.shipped).toBe(true);
    // It decodes with the tree gate it records: the leave-one-regime-out choice.
    expect(readDetectorManifest(dir).config.treeGate).toBe(DEFAULT_TREE_GATE);
    expect(result.options.treeGate).toBe(DEFAULT_TREE_GATE);
    expect(result.roots.length + result.edges.length).toBe(18);
    // 15 children with ~6 candidate choices each: chance is about 17%.
    const truth = JSON.parse(fs.readFileSync(path.join(zooDir, 'lineage.json'), 'utf8')) as { edges: { parent: string; child: string }[] };
    const found = new Set(result.edges.map((e) => `${e.parent}>${e.child}`));
    const right = truth.edges.filter((e) => found.has(`${e.parent}>${e.child}`)).length;
    expect(right / truth.edges.length).toBeGreaterThan(0.6);
  });

  it('the library takes another tree gate, records it, and refuses a negative one', async () => {
    const set = await openModels([zooDir]);
    const scan = await scanModelSet(set);
    const r = await detectLearned(scan, set, { treeGate: 0 });
    expect(r.options.treeGate).toBe(0);
    expect(r.roots.length + r.edges.length).toBe(18);
    await expect(detectLearned(scan, set, { treeGate: -1 })).rejects.toThrow(/treeGate must be a number >= 0, got -1/);
  });

  it('eval scores the learned entry beside a learning-free method', async () => {
    const r = await runCli(['eval', zooDir, '--methods', 'additive-tree,learned', '--json', '-q']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { method: string; edgeAccuracy: number }[];
    expect(rows.map((x) => x.method)).toEqual(['additive-tree', 'learned']);
    expect(rows[1].edgeAccuracy).toBeGreaterThan(0.6);
  });

  it('--detector DIR overrides it, and a tampered copy is refused naming the directory', async () => {
    const copy = path.join(tmp, 'copy');
    fs.mkdirSync(copy);
    for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    const out = path.join(tmp, 'copy.json');
    const ok = await runCli(['detect', zooDir, '--method', 'learned', '--detector', copy, '--format', 'json', '--out', out, '-q']);
    expect(ok.code).toBe(0);
    const result = parseDetectionJson(fs.readFileSync(out, 'utf8'));
    expect(result.options.detector).toBe(copy);
    expect(result.options.shipped).toBe(false);
    const manifest = JSON.parse(fs.readFileSync(path.join(copy, 'detector.json'), 'utf8'));
    manifest.edgeFeatures = manifest.edgeFeatures.slice(1);
    fs.writeFileSync(path.join(copy, 'detector.json'), JSON.stringify(manifest));
    const bad = await runCli(['detect', zooDir, '--method', 'learned', '--detector', copy, '-q']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain(copy);
    expect(bad.err).toMatch(/features differ/);
  });
});
