/**
 * The learned detector's parts that need no weights on disk: candidates and features from a
 * ScanResult, the token graph, decoding to a forest, the loss, the encoder's folding and the
 * detector directory's version checks.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../lib/graph/rng';
import { createEncoder, encodeWindows, foldEncoder, encodeMatrixTf, paddedPair, updateMovingStats } from '../../lib/learned/encoder';
import { candidatePairs, EDGE_FEATURES, NODE_FEATURES, setFeatures } from '../../lib/learned/features';
import { tokenGraph } from '../../lib/learned/graph';
import { choiceLoss, decodeForest } from '../../lib/learned/decode';
import { DEFAULT_TREE_GATE, gateLogits } from '../../lib/learned/tree-gate';
import { splitChildren, parentsOf } from '../../lib/learned/data';
import { matrixShape, tensorType, TENSOR_TYPES } from '../../lib/learned/matrix';
import { createDetector, DEFAULT_CONFIG, detectorLogits } from '../../lib/learned/model';
import { additiveTreeView, treeDetectOptions } from '../../lib/learned/tree-features';
import * as detectModule from '../../lib/detect/detect';
import { detect } from '../../lib/detect';
import { DetectorLoadError, loadDetector, saveDetector, DETECTOR_JSON } from '../../lib/learned/store';
import { LEGACY_TREE_OPTIONS } from '../../lib/learned/model';
import { simulateZoo } from '../helpers/synthetic-scan';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const zoo = simulateZoo({ families: 3, depth: 2, branching: [3, 1], seed: 5 });

describe('features', () => {
  it('candidates cover every true edge, inside families or among the k nearest', () => {
    const f = setFeatures(zoo.scan, { candidates: 'both', k: 2 });
    const parent = parentsOf(zoo.scan, zoo.lineage);
    const has = new Set(f.pairs.map((p) => `${p.a}>${p.b}`));
    parent.forEach((p, c) => {
      if (p >= 0) expect(has.has(`${p}>${c}`)).toBe(true);
    });
    const knn = candidatePairs(zoo.scan, f.distances, { candidates: 'knn', k: 1 });
    // k nearest, both directions: at most 2·M·k pairs, so cost grows with M·k.
    expect(knn.length).toBeLessThanOrEqual(2 * zoo.scan.models.length);
  });

  it('direction features flip sign with the pair; distance features do not', () => {
    const f = setFeatures(zoo.scan, { candidates: 'families', k: 2 });
    const F = EDGE_FEATURES.length;
    const at = new Map(f.pairs.map((p, i) => [`${p.a}>${p.b}`, i]));
    let checked = 0;
    f.pairs.forEach((p, i) => {
      const j = at.get(`${p.b}>${p.a}`);
      if (j === undefined) return;
      for (const name of ['score-diff', 'norm-diff', 'norm-vote', 'log-std-ratio', 'score-rank-diff'] as const) {
        const k = EDGE_FEATURES.indexOf(name);
        expect(f.edge[i * F + k]).toBeCloseTo(-f.edge[j * F + k], 4);
      }
      const d = EDGE_FEATURES.indexOf('log-d');
      expect(f.edge[i * F + d]).toBeCloseTo(f.edge[j * F + d], 5);
      checked++;
    });
    expect(checked).toBeGreaterThan(10);
  });

  it('a detector recorded without treeModel, tinyStep and unchangedTensors sees shared-drift trees without tiny steps, identical tensors ignored', () => {
    const recorded = { familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5, fakeInitAbstain: 1.25 };
    const spy = jest.spyOn(detectModule, 'detect');
    const view = additiveTreeView(zoo.scan, undefined, recorded);
    expect(spy).toHaveBeenCalledWith(zoo.scan, expect.objectContaining({ treeModel: 'shared-drift', tinyStep: null, unchangedTensors: 'ignore' }));
    additiveTreeView(zoo.scan, undefined, { ...recorded, treeModel: 'drift-correlations', tinyStep: 1e-4, unchangedTensors: 'connect' });
    expect(spy).toHaveBeenLastCalledWith(zoo.scan, expect.objectContaining({ treeModel: 'drift-correlations', tinyStep: 1e-4, unchangedTensors: 'connect' }));
    spy.mockRestore();
    const r = detect(zoo.scan, { method: 'additive-tree', ...recorded, treeModel: 'shared-drift', tinyStep: null, unchangedTensors: 'ignore' });
    const index = new Map(zoo.scan.models.map((m, i) => [m.id, i]));
    const parent = new Int32Array(zoo.scan.models.length).fill(-1);
    for (const e of r.edges) parent[index.get(e.child)!] = index.get(e.parent)!;
    expect(Array.from(view.parent)).toEqual(Array.from(parent));
  });

  it('additive-tree features flag exactly the additive tree\'s edges and roots', () => {
    const f = setFeatures(zoo.scan, { candidates: 'both', k: 2 });
    const view = additiveTreeView(zoo.scan);
    const F = EDGE_FEATURES.length;
    const G = NODE_FEATURES.length;
    const col = (name: string) => EDGE_FEATURES.indexOf(name as never);
    let flagged = 0;
    f.pairs.forEach((p, i) => {
      const isParent = view.parent[p.b] === p.a;
      expect(f.edge[i * F + col('at-parent')]).toBe(isParent ? 1 : 0);
      expect(f.edge[i * F + col('at-reverse')]).toBe(view.parent[p.a] === p.b ? 1 : 0);
      // Re-hanging a child under its own additive-tree parent changes nothing.
      if (isParent) expect(f.edge[i * F + col('at-rehang-cost')]).toBeCloseTo(0, 6);
      flagged += isParent ? 1 : 0;
    });
    // Every additive-tree edge is a candidate.
    expect(flagged).toBe(view.parent.filter((p) => p >= 0).length);
    view.parent.forEach((p, m) => expect(f.node[m * G + NODE_FEATURES.indexOf('at-root')]).toBe(p < 0 ? 1 : 0));
  });

  it('an untrained detector with the tree prior decodes to the additive tree; without it, not', () => {
    const f = setFeatures(zoo.scan, { candidates: 'both', k: 2 });
    const M = zoo.scan.models.length;
    const g = tokenGraph(f.pairs, M);
    const view = additiveTreeView(zoo.scan);
    const agree = (treePrior: number, seed: number) => {
      const rng = createRng(seed);
      const m = createDetector({ ...DEFAULT_CONFIG, treePrior }, () => rng.next());
      const logits = tf.tidy(() => detectorLogits(m, {
        encoded: tf.zeros([f.pairs.length, 32]),
        edge: tf.tensor2d(f.edge, [f.pairs.length, EDGE_FEATURES.length]),
        node: tf.tensor2d(f.node, [M, NODE_FEATURES.length]),
        src: tf.tensor1d(f.pairs.map((p) => p.a), 'int32'),
        dst: tf.tensor1d(f.pairs.map((p) => p.b), 'int32'),
        mask: tf.tensor2d(g.mask, [g.tokens, g.tokens]),
      }).dataSync() as Float32Array);
      const parent = decodeForest(logits, g, f.pairs, M).parent;
      return parent.filter((p, c) => p === view.parent[c]).length / M;
    };
    for (const seed of [0, 1, 2]) expect(agree(DEFAULT_CONFIG.treePrior, seed)).toBe(1);
    expect(Math.min(agree(0, 0), agree(0, 1), agree(0, 2))).toBeLessThan(1);
  });

  it('matrix views and tensor types', () => {
    expect(matrixShape([64, 3, 3, 3])).toEqual([64, 27]);
    expect(matrixShape([10])).toEqual([1, 10]);
    expect(matrixShape([])).toEqual([1, 1]);
    expect(TENSOR_TYPES[tensorType('model.layers.0.self_attn.q_proj.weight', [8, 8])]).toBe('attention');
    expect(TENSOR_TYPES[tensorType('conv1.weight', [8, 1, 3, 3])]).toBe('conv');
    expect(TENSOR_TYPES[tensorType('fc1.bias', [8])]).toBe('vector');
  });

  it('splits children 7:1:2 and keeps roots out of the split', () => {
    const parent = Int32Array.from([-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1]);
    const roles = splitChildren(parent, createRng(1));
    expect(roles[0]).toBe('root');
    expect(roles[11]).toBe('root');
    expect(roles.filter((r) => r === 'test').length).toBe(2);
    expect(roles.filter((r) => r === 'val').length).toBe(1);
    expect(roles.filter((r) => r === 'train').length).toBe(7);
    expect(splitChildren(parent, createRng(1))).toEqual(roles);
  });
});

describe('token graph and decoding', () => {
  const pairs = [{ a: 0, b: 1 }, { a: 1, b: 0 }, { a: 1, b: 2 }, { a: 2, b: 1 }, { a: 0, b: 2 }];
  const g = tokenGraph(pairs, 3);

  it('tokens attend only to tokens sharing a model', () => {
    const T = g.tokens;
    expect(T).toBe(8);
    // edge 0→1 and edge 1→2 share model 1; node 2's token does not touch edge 0→1.
    expect(g.mask[0 * T + 2]).toBe(0);
    expect(g.mask[0 * T + (5 + 2)]).toBeLessThan(-1e8);
    expect(g.mask[0 * T + (5 + 1)]).toBe(0);
    expect(g.choices[2]).toEqual([2, 4, 7]);
  });

  it('decodes the most probable valid forest, breaking a cycle the argmax would make', () => {
    // Argmax: 1's parent is 0, 0's parent is 1 (a cycle), 2's parent is 1.
    const logits = new Float32Array(8);
    logits[0] = 5; // 0→1
    logits[1] = 4; // 1→0
    logits[2] = 5; // 1→2
    logits[5 + 0] = 3; // 0 has no parent: a bit less likely than 1→0
    const f = decodeForest(logits, g, pairs, 3);
    expect(Array.from(f.parent)).toEqual([-1, 0, 1]);
    for (let m = 0; m < 3; m++) expect(f.confidence[m]).toBeGreaterThan(0);
  });

  it('the tree gate adds β × the tree\'s direction log-odds to its own choices only', () => {
    const F = EDGE_FEATURES.length;
    const G = NODE_FEATURES.length;
    const edge = new Float32Array(pairs.length * F);
    const node = new Float32Array(3 * G);
    const set = (row: Float32Array, width: number, i: number, names: readonly string[], name: string, v: number) => (row[i * width + names.indexOf(name)] = v);
    // The additive tree: 0 → 1 (direction 0.9), 1 → 2 (direction 0.4: below even odds), 0 its root (0.8).
    set(edge, F, 0, EDGE_FEATURES, 'at-parent', 1);
    set(edge, F, 0, EDGE_FEATURES, 'at-direction', 0.9);
    set(edge, F, 2, EDGE_FEATURES, 'at-parent', 1);
    set(edge, F, 2, EDGE_FEATURES, 'at-direction', 0.4);
    set(node, G, 0, NODE_FEATURES, 'at-root', 1);
    set(node, G, 0, NODE_FEATURES, 'at-root-direction', 0.8);
    const rng = createRng(5);
    const logits = Float32Array.from({ length: 8 }, () => rng.next() * 4 - 2);
    expect(gateLogits(logits, edge, node, pairs.length, 3, 0)).toBe(logits);
    const beta = 0.75;
    const gated = gateLogits(logits, edge, node, pairs.length, 3, beta);
    const want = Float64Array.from(logits);
    want[0] += beta * Math.log(0.9 / 0.1);
    want[5 + 0] += beta * Math.log(0.8 / 0.2);
    for (let i = 0; i < 8; i++) expect(gated[i]).toBeCloseTo(want[i], 5);
    expect(Array.from(logits)).toEqual(Array.from(Float32Array.from(logits))); // input untouched
    // A large β decodes to the tree's confident choices whatever the network said, and only those.
    const against = new Float32Array(8);
    against[1] = 6; // the network: 1→0
    against[5 + 1] = 6; // and 1 a root
    against[5 + 2] = 3; // 2 a root: the tree's 1→2 (direction 0.4) gains nothing to overturn it
    expect(Array.from(decodeForest(gateLogits(against, edge, node, pairs.length, 3, 20), g, pairs, 3).parent)).toEqual([-1, 0, -1]);
  });

  it('the loss is a softmax cross-entropy over each child\'s choices', () => {
    const logits = tf.tensor1d([0, 0, 0, 0, 0, 0, 0, 0]);
    const loss = choiceLoss(logits, g, pairs, Int32Array.from([-1, 0, 1]), [0, 1, 2])!;
    // Node 0 has 2 choices, 1 has 3, 2 has 3: mean of −log(1/n).
    expect(loss.dataSync()[0]).toBeCloseTo((Math.log(2) + Math.log(3) + Math.log(3)) / 3, 5);
  });
});

describe('encoder', () => {
  it('folding batch norm leaves the inference function unchanged', () => {
    const rng = createRng(2);
    const e = createEncoder(3, () => rng.next(), 'fold-test');
    updateMovingStats(e, tf.fill([32], 0.2) as tf.Tensor1D, tf.fill([32], 3) as tf.Tensor1D);
    e.gamma.assign(tf.linspace(0.5, 1.5, 32));
    const rows = 5;
    const cols = 7;
    const a = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i));
    const { x, mask } = paddedPair(a, b, rows, cols, 0.5);
    const unfolded = encodeWindows(e, x, mask, false).out.dataSync();
    const folded = encodeMatrixTf(foldEncoder(e), a, b, rows, cols, 0.5);
    for (let o = 0; o < 32; o++) expect(folded[o]).toBeCloseTo(unfolded[o], 4);
  });
});

describe('detector directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-detector-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips the weights', () => {
    const rng = createRng(3);
    const m = createDetector({ ...DEFAULT_CONFIG, layers: 1 }, () => rng.next());
    saveDetector(dir, m, { note: 'test' });
    const { model, manifest } = loadDetector(dir);
    expect(manifest.config.layers).toBe(1);
    expect(Array.from(model.edgeIn.dataSync())).toEqual(Array.from(m.edgeIn.dataSync()));
    expect(Array.from(model.encoder.movingVar.dataSync())).toEqual(Array.from(m.encoder.movingVar.dataSync()));
  });

  it('refuses a detector from another version, naming the directory', () => {
    const file = path.join(dir, DETECTOR_JSON);
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.replace(/"packageVersion": "[^"]*"/, '"packageVersion": "9.9.0"'));
    expect(() => loadDetector(dir)).toThrow(DetectorLoadError);
    expect(() => loadDetector(dir)).toThrow(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*9\\.9\\.0`));
    fs.writeFileSync(file, good.replace(/"formatVersion": 1/, '"formatVersion": 2'));
    expect(() => loadDetector(dir)).toThrow(/format version 2/);
    fs.writeFileSync(file, good);
    expect(() => loadDetector(path.join(dir, 'nope'))).toThrow(/nope.*no detector\.json/);
  });

  it('keeps the tree options it was trained with: recorded, legacy when absent, checked', () => {
    const file = path.join(dir, DETECTOR_JSON);
    const good = fs.readFileSync(file, 'utf8');
    // Saved now: the package's additive-tree defaults, read back as they are, but for the
    // near-twin doubt, which the detector's tree features do not take (model.ts).
    const now = { familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5, fakeInitAbstain: 1.25, treeModel: 'drift-correlations', tinyStep: 1e-4, unchangedTensors: 'ignore', nearTwins: 'ignore', forgetting: 'refit', tensorMajority: 'move' };
    expect(JSON.parse(good).config.treeOptions).toEqual(now);
    expect(loadDetector(dir).model.config.treeOptions).toEqual(now);
    // Recorded before tensor majorities existed: still a valid file, read as the summed
    // distances deciding, whatever the additive-tree default.
    const summedOnly = JSON.parse(good);
    delete summedOnly.config.treeOptions.tensorMajority;
    fs.writeFileSync(file, JSON.stringify(summedOnly));
    expect(loadDetector(dir).model.config.treeOptions).toEqual({ ...now, tensorMajority: undefined });
    expect(treeDetectOptions(loadDetector(dir).model.config.treeOptions!).tensorMajority).toBe('ignore');
    // Recorded before forgetting existed: still a valid file, read as one increment
    // correlation, whatever the additive-tree default.
    const unforgetting = JSON.parse(good);
    delete unforgetting.config.treeOptions.tensorMajority;
    delete unforgetting.config.treeOptions.forgetting;
    fs.writeFileSync(file, JSON.stringify(unforgetting));
    expect(loadDetector(dir).model.config.treeOptions).toEqual({ ...now, tensorMajority: undefined, forgetting: undefined });
    expect(treeDetectOptions(loadDetector(dir).model.config.treeOptions!).forgetting).toBe('ignore');
    // Recorded before nearTwins existed: still a valid file, read as the fitted tree's
    // confidences, whatever the additive-tree default.
    const undoubted = JSON.parse(good);
    delete undoubted.config.treeOptions.tensorMajority;
    delete undoubted.config.treeOptions.forgetting;
    delete undoubted.config.treeOptions.nearTwins;
    fs.writeFileSync(file, JSON.stringify(undoubted));
    expect(loadDetector(dir).model.config.treeOptions).toEqual({ ...now, tensorMajority: undefined, forgetting: undefined, nearTwins: undefined });
    expect(treeDetectOptions(loadDetector(dir).model.config.treeOptions!).nearTwins).toBe('ignore');
    // Recorded before unchangedTensors existed: still a valid file (identical tensors ignored).
    const unconstrained = JSON.parse(good);
    delete unconstrained.config.treeOptions.tensorMajority;
    delete unconstrained.config.treeOptions.forgetting;
    delete unconstrained.config.treeOptions.nearTwins;
    delete unconstrained.config.treeOptions.unchangedTensors;
    fs.writeFileSync(file, JSON.stringify(unconstrained));
    expect(loadDetector(dir).model.config.treeOptions).toEqual({ familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5, fakeInitAbstain: 1.25, treeModel: 'drift-correlations', tinyStep: 1e-4 });
    // Recorded before treeModel and tinyStep existed: still a valid file (shared-drift trees,
    // the score's votes as they fall).
    const sharedDrift = JSON.parse(good);
    delete sharedDrift.config.treeOptions.tensorMajority;
    delete sharedDrift.config.treeOptions.forgetting;
    delete sharedDrift.config.treeOptions.nearTwins;
    delete sharedDrift.config.treeOptions.unchangedTensors;
    delete sharedDrift.config.treeOptions.treeModel;
    delete sharedDrift.config.treeOptions.tinyStep;
    fs.writeFileSync(file, JSON.stringify(sharedDrift));
    expect(loadDetector(dir).model.config.treeOptions).toEqual({ familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5, fakeInitAbstain: 1.25 });
    // Recorded before fakeInitAbstain existed: still a valid file (every fake-init vote counted).
    const allVotes = JSON.parse(JSON.stringify(sharedDrift));
    delete allVotes.config.treeOptions.fakeInitAbstain;
    fs.writeFileSync(file, JSON.stringify(allVotes));
    expect(loadDetector(dir).model.config.treeOptions).toEqual({ familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 });
    // Recorded before evidenceTemper existed: still a valid file (its features untempered).
    const untempered = JSON.parse(JSON.stringify(sharedDrift));
    delete untempered.config.treeOptions.evidenceTemper;
    delete untempered.config.treeOptions.fakeInitAbstain;
    fs.writeFileSync(file, JSON.stringify(untempered));
    expect(loadDetector(dir).model.config.treeOptions).toEqual({ familyFlip: 0.1, familyNoise: 0.4 });
    // A detector file from before the options were recorded: the options of that time.
    const old = JSON.parse(good);
    delete old.config.treeOptions;
    fs.writeFileSync(file, JSON.stringify(old));
    expect(loadDetector(dir).model.config.treeOptions).toEqual(LEGACY_TREE_OPTIONS);
    for (const bad of [{ familyFlip: 0.7, familyNoise: null }, { familyFlip: 0.3, familyNoise: 0.8 }, { familyFlip: '0.1', familyNoise: null }, { familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 2 }, { familyFlip: 0.1, familyNoise: 0.4, treeModel: 'nope' }, { familyFlip: 0.1, familyNoise: 0.4, tinyStep: 2 }, { familyFlip: 0.1, familyNoise: 0.4, unchangedTensors: 'yes' }, { familyFlip: 0.1, familyNoise: 0.4, nearTwins: 'maybe' }, { familyFlip: 0.1, familyNoise: 0.4, forgetting: 'always' }, { familyFlip: 0.1, familyNoise: 0.4, tensorMajority: 'sometimes' }, 'x']) {
      fs.writeFileSync(file, JSON.stringify({ ...old, config: { ...old.config, treeOptions: bad } }));
      expect(() => loadDetector(dir)).toThrow(/config\.treeOptions must be/);
    }
    fs.writeFileSync(file, good);
  });

  it('reads the tree gate it records (absent: 0) and refuses a bad one', () => {
    const file = path.join(dir, DETECTOR_JSON);
    const good = fs.readFileSync(file, 'utf8');
    // Saved now: the package's default gate, read back as it is.
    expect(JSON.parse(good).config.treeGate).toBe(DEFAULT_TREE_GATE);
    expect(loadDetector(dir).model.config.treeGate).toBe(DEFAULT_TREE_GATE);
    const m = JSON.parse(good);
    fs.writeFileSync(file, JSON.stringify({ ...m, config: { ...m.config, treeGate: 0.5 } }));
    expect(loadDetector(dir).model.config.treeGate).toBe(0.5);
    // Saved before the gate existed: it decoded ungated, and still does.
    const before = JSON.parse(good);
    delete before.config.treeGate;
    fs.writeFileSync(file, JSON.stringify(before));
    expect(loadDetector(dir).model.config.treeGate).toBe(0);
    for (const bad of [-1, '1', null, 1e400]) {
      fs.writeFileSync(file, JSON.stringify({ ...m, config: { ...m.config, treeGate: bad } }));
      expect(() => loadDetector(dir)).toThrow(/config\.treeGate must be a finite number >= 0/);
    }
    fs.writeFileSync(file, good);
  });
});
