/**
 * trainDetector: zoos in, a detector directory out. Each zoo is opened and scanned; its
 * children are split train/val/test 7:1:2 (seeded, the paper's protocol); the detector is
 * fitted with early stopping on validation; the test children are then decoded with the
 * native whole-matrix encoder, and their directed-edge accuracy is recorded with the weights.
 */
import { InvalidArgumentError } from '../errors';
import { selectBackend } from '../zoo/backend';
import { createRng } from '../graph';
import { loadZoo, PreparedSet, Role, splitChildren } from './data';
import { accuracyOver } from './decode';
import { EpochReport, fitDetector } from './fit';
import { EncoderEngine, runDetector } from './infer';
import { DEFAULT_CONFIG, DetectorConfig, DetectorVars } from './model';
import { saveDetector } from './store';
import { DEFAULT_TREE_GATE } from './tree-gate';

export interface TrainOptions {
  /** Zoo directories (each with lineage.json). */
  zoos: string[];
  /** How detector.json names the zoos (default: their directories; the shipped detector names presets and seeds, not cache paths). */
  zooLabels?: string[];
  /** Detector directory to write. */
  out: string;
  epochs?: number;
  seed?: number;
  learningRate?: number;
  patience?: number;
  /** Train/val/test fractions of each zoo's children (default the paper's 0.7/0.1/0.2). */
  split?: [number, number, number];
  config?: Partial<DetectorConfig>;
  /** Encoder at test time: 'native' (default) or 'tfjs'. */
  engine?: EncoderEngine;
  onProgress?: (e: EpochReport) => void;
  log?: (line: string) => void;
}

export interface TrainReport {
  out: string;
  epochs: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  valAccuracy: number;
  /** Directed-edge accuracy over the test children of all zoos (NaN without test children). */
  testAccuracy: number;
  testChildren: number;
  /** Chance level: mean over test children of 1 / (its candidate parents + 1). */
  chance: number;
  history: EpochReport[];
  seconds: number;
}

/** Options of `phylogeny train`, for the CLI's declarative parser. */
export const TRAIN_OPTIONS = [
  { name: 'zoo', type: 'string[]', required: true, description: 'zoo directory with lineage.json (repeatable)' },
  { name: 'out', type: 'string', required: true, description: 'detector directory to write' },
  { name: 'epochs', type: 'number', default: 100, description: 'training epochs (one step per zoo per epoch)' },
  { name: 'seed', type: 'number', default: 0, description: 'seed of the split, initialization and crops' },
  { name: 'lr', type: 'number', default: 0.01, description: 'Adam learning rate' },
  { name: 'patience', type: 'number', default: 30, description: 'epochs without a better validation result before stopping' },
  { name: 'tree-gate', type: 'number', default: DEFAULT_TREE_GATE, description: "β of the tree gate: the additive tree's choices gain β × its direction log-odds at decoding (0: the network alone)" },
] as const;

export interface TestResult {
  accuracy: number;
  children: number;
  chance: number;
}

/** Decodes each set and scores the models of role `role` (default 'test'). */
export async function testAccuracy(model: DetectorVars, sets: { ps: PreparedSet; roles: Role[] }[], engine: EncoderEngine = 'native', role: Role = 'test'): Promise<TestResult> {
  let right = 0;
  let total = 0;
  let chance = 0;
  for (const s of sets) {
    const models = s.roles.map((r, m) => (r === role ? m : -1)).filter((m) => m >= 0);
    if (models.length === 0) continue;
    const { forest } = await runDetector(model, s.ps, { engine });
    right += accuracyOver(forest.parent, s.ps.parent!, models) * models.length;
    total += models.length;
    for (const m of models) chance += 1 / s.ps.graph.choices[m].length;
  }
  return { accuracy: total ? right / total : NaN, children: total, chance: total ? chance / total : NaN };
}

export async function trainDetector(opts: TrainOptions): Promise<TrainReport> {
  const t0 = Date.now();
  const log = opts.log ?? (() => undefined);
  if (!opts.zoos.length) throw new InvalidArgumentError('E_INVALID_ARG', 'trainDetector: zoos needs at least one zoo');
  await selectBackend('auto');
  const config: DetectorConfig = { ...DEFAULT_CONFIG, ...opts.config };
  const seed = opts.seed ?? 0;
  const rng = createRng(seed);
  const sets: { ps: PreparedSet; roles: Role[] }[] = [];
  for (const dir of opts.zoos) {
    const ps = await loadZoo(dir, config);
    sets.push({ ps, roles: splitChildren(ps.parent!, rng, opts.split) });
    log(`${dir}: ${ps.scan.models.length} models, ${ps.features.pairs.length} candidate pairs, ${ps.tensors.length} encoder tensors`);
  }
  const fit = fitDetector(sets, config, {
    epochs: opts.epochs ?? 100,
    learningRate: opts.learningRate ?? 0.01,
    seed,
    patience: opts.patience ?? 30,
    valCrops: 4,
    onEpoch: (e) => {
      opts.onProgress?.(e);
      log(`epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(4)}, val accuracy ${(100 * e.valAccuracy).toFixed(1)}%${e.best ? ' (best)' : ''}`);
    },
  });
  const test = await testAccuracy(fit.model, sets, opts.engine ?? 'native');
  const best = fit.history.find((h) => h.epoch === fit.bestEpoch);
  const report: TrainReport = {
    out: opts.out,
    epochs: fit.history.length,
    bestEpoch: fit.bestEpoch,
    stoppedEarly: fit.stoppedEarly,
    valAccuracy: best?.valAccuracy ?? NaN,
    testAccuracy: test.accuracy,
    testChildren: test.children,
    chance: test.chance,
    history: fit.history,
    seconds: (Date.now() - t0) / 1000,
  };
  saveDetector(opts.out, fit.model, {
    zoos: opts.zooLabels ?? opts.zoos,
    seed,
    epochs: report.epochs,
    bestEpoch: report.bestEpoch,
    learningRate: opts.learningRate ?? 0.01,
    split: opts.split ?? [0.7, 0.1, 0.2],
    valAccuracy: report.valAccuracy,
    testAccuracy: report.testAccuracy,
    testChildren: report.testChildren,
    chance: report.chance,
    history: report.history.map((h) => ({ epoch: h.epoch, loss: h.loss, valAccuracy: h.valAccuracy, valLoss: h.valLoss })),
  });
  log(`test directed-edge accuracy ${(100 * test.accuracy).toFixed(1)}% over ${test.children} children (chance ${(100 * test.chance).toFixed(1)}%) → ${opts.out}`);
  return report;
}
