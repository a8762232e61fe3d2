/**
 * `npm run eval:regimes`: direction across training regimes. Builds (or reuses the cached)
 * `regimes` zoos (lib/zoo/regimes.ts: nine regimes, `--families` families each) for several
 * seeds, scans each once, and prints Markdown tables:
 *
 * 1. per direction signal and regime, its reliability: the share of true parent → child
 *    edges along which it grows (ties count ½), or for pooled per-tensor votes the share of
 *    non-tied (edge, tensor) votes that grow; spectral statistics from a bounded second pass;
 * 2. per method setting and regime, directed-edge accuracy (the default, the norm setting,
 *    the fake-init score alone, MoTHer);
 * 3. leave-one-regime-out: for each regime, the signal error rates are measured on the other
 *    regimes' edges only, candidate settings (fixed settings and settings using those fitted
 *    rates) are ranked by their accuracy on the other regimes, and the chosen one is scored on
 *    the held-out regime;
 *    A second choice is made among the settings that keep the per-tensor votes, which the
 *    zoos outside this study need (keepsTensorVotes);
 * 4. accuracy of that second choice's edges per family direction-confidence bin (of settings
 *    tied on accuracy, the one with the fewest wrong edges at family confidence ≥ 0.95 on the
 *    other regimes), then the default's on every group, and each setting's that weighs
 *    near-twin readings.
 *
 *   npm run eval:regimes                                    # seeds 0-4, 2 families per regime
 *   npm run eval:regimes -- --seeds 0,1 --families 1 --json out.json
 *   npm run eval:regimes -- --presets mnist-fc     # also hold out the mnist-fc zoos (same seeds)
 *   npm run eval:regimes -- --net cnn-bn --families 1 --seeds 0,1,2   # CNNs with BatchNorm step counters
 *   npm run eval:regimes -- --net vit --families 1 --seeds 0          # small ViTs (LayerNorm, attention)
 *   npm run eval:regimes -- ... --also-nets vit,cnn-bn [--also-seeds 0,1,2]
 *       # also the regimes zoos of those networks (1 family per regime), one group per network
 *       # and regime ("vit/tiny"), in every table and in the leave-one-out
 *   npm run eval:regimes -- --presets mnist-fc,mnist-cnn,tiny-llama --torch-seeds 0,1
 *       # also the PyTorch-trained families (scripts/torch_families.py; --python to name the
 *       # interpreter, default /usr/bin/python3), one group per architecture and regime;
 *       # --torch-archs mlp,cnn-bn,vit adds the PyTorch ViT families
 *   npm run eval:regimes -- ... --learned
 *       # also a row for the shipped learned detector in the fixed-settings table (zoos with
 *       # files only; it was trained on the MLP regimes zoos, so only other groups are unseen);
 *       # --detector DIR scores that detector instead
 *   npm run eval:regimes -- ... --synthetic
 *       # also the synthetic family shapes of scripts/study-detect.ts (stars, three
 *       # generations, chains, correlated drifts; seeds 1-5), one group per shape: every trained
 *       # zoo here is a star with one grandchild, so chains enter the leave-one-out only
 *       # through these
 *
 * With --presets, each named preset's zoos join as one more group ("regime") in every table
 * and in the leave-one-out, so a setting is also judged on a zoo family it was not fitted on.
 */
import * as fs from 'fs';
import { detect } from '../lib/detect';
import type { DetectOptions } from '../lib/detect/options';
import type { DetectionResult } from '../lib/detect/types';
import { MODEL_SIGNAL_NAMES, modelSignal } from '../lib/detect/direction-signals';
import { tensorKurtosis } from '../lib/detect/scores';
import { modelSpectra } from '../lib/eval/spectral';
import { openModels } from '../lib/io/discover';
import type { ModelSet } from '../lib/io/types';
import { detectLearned } from '../lib/learned';
import { scanModelSet } from '../lib/scan/scan';
import type { ScanResult } from '../lib/scan/types';
import { ensureZoo } from '../lib/zoo';
import { counterSignal } from '../lib/scan/counters';
import { relativeStep } from '../lib/detect/tiny-step';
import { isRunningStat } from '../lib/detect/running-stats';
import type { ZooOptions, ZooPreset } from '../lib/zoo';
import { REGIMES } from '../lib/zoo/regimes';
import { REGIME_NETS } from '../lib/zoo/presets/regimes';
import { machineDescription } from '../bench/machine';
import { CLASSIC_ARCHS, ensureTorchFamilies, torchArchSets, torchGroups } from './torch-families';
import { handleUsage } from './usage';
import { SYNTHETIC } from './synthetic-sets';
import { simulateZoo } from '../test/helpers/synthetic-scan';
import { InvalidArgumentError } from '../lib/errors';

handleUsage(__filename, ['seeds', 'families', 'presets', 'net', 'also-nets', 'also-seeds', 'torch-seeds', 'torch-archs', 'python', 'synthetic', 'learned', 'detector', 'json']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface Edge {
  parent: number;
  child: number;
  regime: string;
  seed: number;
}

interface Zoo {
  seed: number;
  scan: ScanResult;
  ids: string[];
  edges: Edge[];
  /** Per model: signal name → value. */
  signals: Map<string, Float64Array>;
  /** The files (absent for simulated scans): what the learned detector's encoder reads. */
  set?: ModelSet;
}

const pct = (x: number) => (Number.isNaN(x) ? '–' : (100 * x).toFixed(1));

/** Fixed settings, evaluated as they were measured: every one but the default and those named
 * "temper" counts its votes untempered (evidenceTemper 1), as all settings did before
 * tempering; every one but the default and those named "abstain" counts every fake-init vote
 * (fakeInitAbstain null), as all did before abstention; every one but the default and those
 * named "tiny steps" counts the score's and the gains' votes as they fall (tinyStep and
 * tinyStepGains null); every one but the default and those named "drift-correlations" or
 * "additive fit" refits its trees by shared drift alone (treeModel 'shared-drift'); every one
 * but the default and those named "unchanged tensors" lets bit-identical tensors constrain
 * nothing (unchangedTensors 'ignore'); every one but the default and those named "near twins"
 * keeps its fitted tree and its confidences (nearTwins 'ignore'); every one but the default
 * and those named "forgetting" keeps one increment correlation (forgetting 'ignore'); every one
 * but the default and those named "tensor majorities" lets the summed distances decide
 * (tensorMajority 'ignore'). So "temper
 * 0.5, family flips 0.1, noise 0.4" is the default before abstention, and "fake-init abstain
 * 1.25, temper 0.5, family flips 0.1, noise 0.4" the default before the drift-correlations tree
 * and tiny steps. */
const FIXED: Record<string, DetectOptions> = Object.fromEntries(
  Object.entries(settings()).map(([name, o]) => {
    if (name === 'default' || o.method === 'mother') return [name, o];
    return [
      name,
      {
        ...o,
        ...(o.evidenceTemper === undefined ? { evidenceTemper: 1 } : {}),
        ...(o.fakeInitAbstain === undefined ? { fakeInitAbstain: null } : {}),
        ...(o.tinyStep === undefined ? { tinyStep: null } : {}),
        ...(o.tinyStepGains === undefined ? { tinyStepGains: null } : {}),
        ...(o.treeModel === undefined ? { treeModel: 'shared-drift' as const } : {}),
        ...(o.unchangedTensors === undefined ? { unchangedTensors: 'ignore' as const } : {}),
        ...(o.nearTwins === undefined ? { nearTwins: 'ignore' as const } : {}),
        ...(o.forgetting === undefined ? { forgetting: 'ignore' as const } : {}),
        ...(o.tensorMajority === undefined ? { tensorMajority: 'ignore' as const } : {}),
      },
    ];
  }),
);

function settings(): Record<string, DetectOptions> {
  return {
    default: {},
    'family flips off': { familyFlip: null },
    'family flips 0.2 (the previous default)': { familyFlip: 0.2, familyNoise: null },
    'norm score': { score: 'norm', directionEvidence: 'score', familyFlip: null },
    'fake-init score': { directionEvidence: 'score', familyFlip: null },
    'kurtosis votes': { directionEvidence: 'kurtosis-votes', familyFlip: null },
    mother: { method: 'mother' },
    // Without the shared-drift refit, which a wrong root leads astray.
    'additive fit': { treeModel: 'additive', familyFlip: null },
    'additive fit, fake-init score': { treeModel: 'additive', directionEvidence: 'score', familyFlip: null },
    // Per-family error rates (a Beta prior of strength 4 around the scan-wide ones).
    'family rates 4': { familyRateStrength: 4, familyFlip: null },
    // Per family, a kind of evidence may be reversed (prior probability π).
    'family flips 0.05': { familyFlip: 0.05, familyNoise: null },
    'fake-init score, family flips 0.05': { directionEvidence: 'score', familyFlip: 0.05, familyNoise: null },
    'fake-init score, family flips 0.2': { directionEvidence: 'score', familyFlip: 0.2, familyNoise: null },
    'kurtosis votes, family flips 0.05': { directionEvidence: 'kurtosis-votes', familyFlip: 0.05, familyNoise: null },
    'kurtosis votes, family flips 0.2': { directionEvidence: 'kurtosis-votes', familyFlip: 0.2, familyNoise: null },
    // ... and, with prior ν, leave a kind without direction in a family (its votes coin tosses).
    'family flips 0.2, noise 0.05': { familyFlip: 0.2, familyNoise: 0.05 },
    'family flips 0.2, noise 0.2': { familyFlip: 0.2, familyNoise: 0.2 },
    'family flips 0.2, noise 0.4': { familyFlip: 0.2, familyNoise: 0.4 },
    'family flips 0.05, noise 0.2': { familyFlip: 0.05, familyNoise: 0.2 },
    'family flips 0.2, noise 0.6': { familyFlip: 0.2, familyNoise: 0.6 },
    'family flips 0.1, noise 0.75': { familyFlip: 0.1, familyNoise: 0.75 },
    'family flips 0.1, noise 0.4': { familyFlip: 0.1, familyNoise: 0.4 },
    'family flips 0.3, noise 0.4': { familyFlip: 0.3, familyNoise: 0.4 },
    'fake-init score, family flips 0.1, noise 0.4': { directionEvidence: 'score', familyFlip: 0.1, familyNoise: 0.4 },
    'additive fit, fake-init score, family flips 0.2': { treeModel: 'additive', directionEvidence: 'score', familyFlip: 0.2, familyNoise: null },
    // BatchNorm running statistics compared as weights, votes untempered: the previous default.
    'running statistics compared, untempered (the default before the previous)': { runningStats: 'compare' },
    // Fake-init votes abstaining where the linear term of the change dominates (root-posterior.ts
    // tensorSignals), at the default's other settings.
    ...Object.fromEntries([3, 2, 1.5, 1.25, 1.1].map((r) => [`fake-init abstain ${r}, temper 0.5, family flips 0.1, noise 0.4`, { fakeInitAbstain: r, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 }])),
    ...Object.fromEntries([2, 1.5].flatMap((r) => [0.7, 0.3].map((t) => [`fake-init abstain ${r}, temper ${t}, family flips 0.1, noise 0.4`, { fakeInitAbstain: r, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: t }]))),
    // The score's votes reversed on pairs whose relative step is below r (tiny-step.ts), at the
    // default's other settings.
    ...Object.fromEntries(
      [3e-5, 1e-4, 3e-4, 1e-3].map((r) => [`tiny steps reverse the score below ${r}, fake-init abstain 1.25, temper 0.5, family flips 0.1, noise 0.4`, { tinyStep: r, fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 }]),
    ),
    // The norm gains' votes reversed on those pairs instead of abstaining.
    ...Object.fromEntries(
      [3e-5, 1e-4, 3e-4, 1e-3].map((r) => [`tiny steps reverse the gains' votes below ${r}, fake-init abstain 1.25, temper 0.5, family flips 0.1, noise 0.4`, { tinyStepGains: r, fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 }]),
    ),
    // The rooted tree refitted by shared drift and the spread of its increment correlations
    // together (drift-correlations.ts), at the default's and at the tiny-step settings.
    'drift-correlations tree': { treeModel: 'drift-correlations' },
    'drift-correlations tree, fake-init abstain 1.25, temper 0.5, family flips 0.1, noise 0.4': { treeModel: 'drift-correlations', fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 },
    ...Object.fromEntries(
      [1e-4, 3e-4].map((r) => [`drift-correlations tree, tiny steps reverse the score below ${r}`, { treeModel: 'drift-correlations', tinyStep: r, fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 }]),
    ),
    // Trees kept to those in which bit-identical copies of a tensor are connected
    // (unchanged-tensors.ts), at those settings.
    'drift-correlations tree, fake-init abstain 1.25, temper 0.5, family flips 0.1, noise 0.4, unchanged tensors connected': { treeModel: 'drift-correlations', unchangedTensors: 'connect', fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 },
    ...Object.fromEntries(
      [1e-4, 3e-4].map((r) => [`drift-correlations tree, tiny steps reverse the score below ${r}, unchanged tensors connected`, { treeModel: 'drift-correlations', tinyStep: r, unchangedTensors: 'connect', fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 }]),
    ),
    // The fitted tree weighed against its near-twin readings (near-twins.ts): confidences over
    // all of them ('doubt'), or also the best reading and root chosen ('weigh').
    ...Object.fromEntries(
      (['doubt', 'weigh'] as const).map((t) => [`drift-correlations tree, tiny steps reverse the score below 0.0001, near twins ${t === 'doubt' ? 'doubted' : 'weighed'}`, { treeModel: 'drift-correlations', tinyStep: 1e-4, nearTwins: t, fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 }]),
    ),
    // Increments on one root path correlating by their own κ (forgetting.ts), where the
    // distances support the move, at the near-twin settings.
    // 'unchecked' takes every refit, supported by the nearest models or not.
    ...Object.fromEntries(
      (['refit', 'unchecked'] as const).map((f) => [`drift-correlations tree, tiny steps reverse the score below 0.0001, near twins doubted, forgetting ${f}`, { treeModel: 'drift-correlations', tinyStep: 1e-4, nearTwins: 'doubt', forgetting: f, fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 }]),
    ),
    // Tensors counted one vote each (tensor-majority.ts): a model moves where a sign test over
    // its tensors puts another model significantly nearer than its fitted parent.
    'drift-correlations tree, tiny steps reverse the score below 0.0001, near twins doubted, forgetting refit, tensor majorities moved': { treeModel: 'drift-correlations', tinyStep: 1e-4, nearTwins: 'doubt', forgetting: 'refit', tensorMajority: 'move', fakeInitAbstain: 1.25, familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: 0.5 },
    // Votes tempered by τ (one model's tensors move together: root-posterior.ts).
    ...Object.fromEntries(
      [0.7, 0.5, 0.4, 0.3, 0.2].flatMap((t) => [
        [`temper ${t}, family flips 0.1, noise 0.4`, { familyFlip: 0.1, familyNoise: 0.4, evidenceTemper: t }],
        [`temper ${t}, family flips 0.2, noise 0.4`, { familyFlip: 0.2, familyNoise: 0.4, evidenceTemper: t }],
        [`temper ${t}, family flips 0.2`, { familyFlip: 0.2, familyNoise: null, evidenceTemper: t }],
        [`temper ${t}, family flips off`, { familyFlip: null, evidenceTemper: t }],
      ]),
    ),
  };
}

/**
 * Settings that keep the per-tensor votes (directionEvidence 'tensor-votes'). The fake-init
 * score alone roots tiny-llama and mnist-cnn families wrongly (docs/detect.md, Results), zoos
 * this study does not hold, so the LOO also reports its choice among these only.
 */
const keepsTensorVotes = (name: string): boolean =>
  name === 'fitted signals + tensor votes' || (name in FIXED && FIXED[name].method === undefined && FIXED[name].directionEvidence === undefined);

/** Settings that use error rates fitted on the training regimes (by the LOO). */
const FITTED = ['fitted signals', 'fitted signals + tensor votes', 'fitted top-1', 'fitted top-3'] as const;

/** Which model-level signals enter the fitted settings (the scan-only ones). */
const FIT_SIGNALS = MODEL_SIGNAL_NAMES;

type RegimeNet = NonNullable<ZooOptions['regimeNet']>;
const NETS: readonly RegimeNet[] = REGIME_NETS;
/** Each network as the report's first line names it. */
const NET_LABEL: Record<RegimeNet, string> = { mlp: 'MLP 784-64-10', 'cnn-bn': 'CNN c8-c16 with BatchNorm', vit: 'ViT p7-d32, 2 layers, 2 heads', llama: 'tiny LLaMA h64, 2 layers' };

async function loadZoo(seed: number, families: number, preset: ZooPreset, net: RegimeNet, prefix = ''): Promise<Zoo> {
  const opts = preset === 'regimes' ? { preset, seed, families, ...(net === 'mlp' ? {} : { regimeNet: net }) } : { preset, seed };
  const zoo = await ensureZoo({ ...opts, log: (l) => process.stderr.write(`${l}\n`) });
  // Only the regimes zoo is split by regime: another preset is one group, even when its records
  // name a regime per family (tiny-unet's), so its names cannot merge with the regimes zoo's.
  return loadSet(seed, zoo.outDir, new Map(zoo.models.map((m) => [m.id, preset === 'regimes' ? `${prefix}${String(m.hyperparameters.regime)}` : preset])));
}

/** The second pass's statistics (lib/eval/spectral.ts), as the tables name them. */
const SPECTRAL_SIGNALS = [
  ['stableRank', 'stable-rank (2nd pass)'],
  ['entropy', 'spectral-entropy (2nd pass)'],
  ['tailAlpha', 'tail-alpha (2nd pass)'],
] as const;

/** A model set with its lineage, each true edge in the group of its child (`groupOf`). */
async function loadSet(seed: number, dir: string, groupOf: Map<string, string>): Promise<Zoo> {
  const set = await openModels([dir]);
  const scan = await scanModelSet(set, { device: 'cpu' });
  const ids = scan.models.map((m) => m.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const edges = set.lineage!.edges.map((e) => ({ parent: index.get(e.parent)!, child: index.get(e.child)!, regime: groupOf.get(e.child)!, seed }));
  const signals = new Map<string, Float64Array>();
  for (const name of MODEL_SIGNAL_NAMES) signals.set(name, modelSignal(name, scan.tensors, ids.length));
  if (scan.counters) signals.set('step-counter (num_batches_tracked)', counterSignal(scan.counters, ids.length));
  // Bounded second pass: spectral statistics of each model's matrices, averaged over matrices
  // after dividing by their mean over models (as the scan-based signals are).
  const spectra = set.models.map((m) => modelSpectra(m));
  for (const [key, label] of SPECTRAL_SIGNALS) {
    // Matrices too small for a statistic (NaN in some model) are left out for every model.
    const names = [...spectra[0].keys()].filter((name) => spectra.every((s) => Number.isFinite(s.get(name)?.[key] ?? NaN)));
    const out = new Float64Array(ids.length).fill(names.length > 0 ? 0 : NaN);
    for (const name of names) {
      const vals = spectra.map((s) => s.get(name)![key]);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      vals.forEach((v, m) => (out[m] += v / mean / names.length));
    }
    signals.set(label, out);
  }
  return { seed, scan, ids, edges, signals, set };
}

/** A simulated family set (no files: its spectral signals are NaN, left out of the tables). */
function syntheticZoo(group: string, sim: ReturnType<typeof simulateZoo>, seed: number): Zoo {
  const scan = sim.scan;
  const ids = scan.models.map((m) => m.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const edges = sim.lineage.edges.map((e) => ({ parent: index.get(e.parent)!, child: index.get(e.child)!, regime: group, seed }));
  const signals = new Map<string, Float64Array>();
  for (const name of MODEL_SIGNAL_NAMES) signals.set(name, modelSignal(name, scan.tensors, ids.length));
  for (const [, name] of SPECTRAL_SIGNALS) signals.set(name, new Float64Array(ids.length).fill(NaN));
  return { seed, scan, ids, edges, signals };
}

/** Growth along an edge: 1 grows, 0 falls, ½ tie. */
const grows = (v: ArrayLike<number>, e: Edge): number => (v[e.child] > v[e.parent] ? 1 : v[e.child] < v[e.parent] ? 0 : 0.5);

/** Pooled per-tensor votes of one quantity: share of non-tied (edge, tensor) votes that grow. */
function pooledVotes(z: Zoo, edges: Edge[], q: (t: ScanResult['tensors'][number], slot: number) => number | null): { up: number; total: number } {
  let up = 0;
  let total = 0;
  for (const t of z.scan.tensors) {
    const slot = new Map(t.models.map((m, s) => [m, s]));
    for (const e of edges) {
      const a = slot.get(e.parent);
      const b = slot.get(e.child);
      if (a === undefined || b === undefined) continue;
      const va = q(t, a);
      const vb = q(t, b);
      if (va === null || vb === null || va === vb) continue;
      total++;
      if (vb > va) up++;
    }
  }
  return { up, total };
}

function directedAccuracy(r: DetectionResult, z: Zoo, edges: Edge[]): { right: number; total: number } {
  const parentOf = new Map(r.edges.map((e) => [e.child, e.parent]));
  let right = 0;
  for (const e of edges) if (parentOf.get(z.ids[e.child]) === z.ids[e.parent]) right++;
  return { right, total: edges.length };
}

/** Error rate of "grows from parent to child" over edges (ties left out, Laplace-smoothed). */
function fittedRates(zoos: Zoo[], regimes: Set<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of FIT_SIGNALS) {
    let wrong = 0;
    let total = 0;
    for (const z of zoos) {
      const v = z.signals.get(name)!;
      for (const e of z.edges) {
        if (!regimes.has(e.regime)) continue;
        const g = grows(v, e);
        if (g === 0.5) continue;
        total++;
        if (g === 0) wrong++;
      }
    }
    out[name] = (wrong + 1) / (total + 2);
  }
  return out;
}

/** Untempered, as they were measured before tempering (their fitted signals are of known
 * error rate, which tempering leaves alone anyway). */
function fittedOptions(kind: (typeof FITTED)[number], rates: Record<string, number>): DetectOptions {
  return { ...fittedBase(kind, rates), evidenceTemper: 1 };
}

function fittedBase(kind: (typeof FITTED)[number], rates: Record<string, number>): DetectOptions {
  const strength = (n: string) => Math.abs(Math.log((1 - rates[n]) / rates[n]));
  const ranked = Object.keys(rates).sort((a, b) => strength(b) - strength(a));
  const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, rates[n]]));
  switch (kind) {
    case 'fitted signals':
      return { directionEvidence: 'score', directionSignals: pick(ranked), familyFlip: null };
    case 'fitted signals + tensor votes':
      return { directionSignals: pick(ranked), familyFlip: null };
    case 'fitted top-1':
      return { directionEvidence: 'score', directionSignals: pick(ranked.slice(0, 1)), familyFlip: null };
    case 'fitted top-3':
      return { directionEvidence: 'score', directionSignals: pick(ranked.slice(0, 3)), familyFlip: null };
  }
}

/** True edges of the given groups whose child is not found under its parent, in families of
 * direction confidence ≥ 0.95. */
function highConfidenceWrong(zoos: Zoo[], results: DetectionResult[], groups: Set<string>): number {
  let wrong = 0;
  results.forEach((r, zoo) => {
    const z = zoos[zoo];
    const conf = familyConfidenceOf(r);
    const parentOf = new Map(r.edges.map((e) => [e.child, e.parent]));
    for (const e of z.edges) {
      if (!groups.has(e.regime) || !((conf.get(z.ids[e.child]) ?? 0) >= 0.95)) continue;
      if (parentOf.get(z.ids[e.child]) !== z.ids[e.parent]) wrong++;
    }
  });
  return wrong;
}

/** The family direction confidence of each true edge's family under a detection (by child id). */
function familyConfidenceOf(r: DetectionResult): Map<string, number> {
  const out = new Map<string, number>();
  r.families.forEach((f, i) => f.forEach((id) => out.set(id, r.familyDirections?.[i]?.confidence ?? NaN)));
  return out;
}

async function main() {
  const seeds = arg('seeds', '0,1,2,3,4').split(',').map(Number);
  const families = Number(arg('families', '2'));
  const presets = arg('presets', '').split(',').filter(Boolean) as ZooPreset[];
  const net = arg('net', 'mlp') as RegimeNet;
  if (!NETS.includes(net)) throw new InvalidArgumentError('E_INVALID_ARG', `--net must be ${NETS.join(', ')} (got ${net})`);
  const zoos: Zoo[] = [];
  for (const preset of ['regimes' as ZooPreset, ...presets]) {
    for (const seed of seeds) {
      const t0 = Date.now();
      zoos.push(await loadZoo(seed, families, preset, net));
      process.stderr.write(`${preset} seed ${seed}: ${zoos[zoos.length - 1].ids.length} models, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }
  }
  // --also-nets: the regimes zoos of other networks as groups of their own ("vit/adam", one
  // family per regime, seeds --also-seeds), so the leave-one-out also holds out architectures.
  const alsoNets = arg('also-nets', '').split(',').filter(Boolean) as RegimeNet[];
  const alsoSeeds = arg('also-seeds', '0,1,2').split(',').map(Number);
  const alsoNames: string[] = [];
  for (const n of alsoNets) {
    if (!NETS.includes(n) || n === net) throw new InvalidArgumentError('E_INVALID_ARG', `--also-nets: each of ${NETS.join(', ')} other than --net (got ${n})`);
    alsoNames.push(...REGIMES.map((r) => `${n}/${r}`));
    for (const seed of alsoSeeds) {
      zoos.push(await loadZoo(seed, 1, 'regimes', n, `${n}/`));
      process.stderr.write(`regimes (${n}) seed ${seed}: ${zoos[zoos.length - 1].ids.length} models\n`);
    }
  }
  const torchSeeds = arg('torch-seeds', '').split(',').filter(Boolean).map(Number);
  const torchNames = new Set<string>();
  // --torch-archs: the PyTorch architecture sets to add (default the MLPs and CNNs; 'vit' adds
  // the ViT families, a model set of their own, as does each other architecture).
  const torchArchs = arg('torch-archs', CLASSIC_ARCHS.join(',')).split(',');
  const torchSets = torchArchSets(torchArchs);
  for (const [seed, setArchs] of torchSeeds.flatMap((s) => torchSets.map((a) => [s, a] as const))) {
    const dir = ensureTorchFamilies(seed, 2, arg('python', '/usr/bin/python3'), setArchs);
    const groups = new Map([...torchGroups(dir)].map(([id, g]) => [id, `torch ${g}`]));
    groups.forEach((g) => torchNames.add(g));
    zoos.push(await loadSet(seed, dir, groups));
    process.stderr.write(`torch seed ${seed}: ${zoos[zoos.length - 1].ids.length} models\n`);
  }
  const withLearned = process.argv.includes('--learned');
  const syntheticNames: string[] = [];
  if (process.argv.includes('--synthetic')) {
    for (const { name, spec } of SYNTHETIC) {
      syntheticNames.push(name);
      for (const seed of [1, 2, 3, 4, 5]) zoos.push(syntheticZoo(name, simulateZoo({ ...spec, seed }), seed));
    }
  }
  const regimes = [...REGIMES, ...presets, ...alsoNames, ...[...torchNames].sort(), ...syntheticNames].filter((r) => zoos.some((z) => z.edges.some((e) => e.regime === r)));
  const edgesOf = (z: Zoo, rs: Set<string>) => z.edges.filter((e) => rs.has(e.regime));
  const lines: string[] = [];
  const header = (first: string) => [`| ${first} | ${regimes.join(' | ')} | all |`, `|---|${regimes.map(() => '---:').join('|')}|---:|`];
  const edgeCount = zoos.reduce((a, z) => a + z.edges.length, 0);
  const perGroup = regimes.map((r) => zoos.reduce((a, z) => a + z.edges.filter((e) => e.regime === r).length, 0));
  lines.push(
    `Zoos: regimes (${NET_LABEL[net]}), seeds ${seeds.join(', ')}, ${families} families per regime${presets.length ? `; ${presets.join(', ')} (small), the same seeds` : ''}${alsoNets.length ? `; regimes of ${alsoNets.map((n) => NET_LABEL[n]).join(', ')}, seeds ${alsoSeeds.join(', ')}, 1 family per regime` : ''}${torchSeeds.length ? `; PyTorch families (scripts/torch_families.py: 2 per architecture and regime; ${torchArchs.join(', ')}), seeds ${torchSeeds.join(', ')}` : ''}${syntheticNames.length ? '; synthetic family shapes (scripts/synthetic-sets.ts, simulated scans), seeds 1-5' : ''} ` +
      `(${edgeCount} true edges: ${regimes.map((r, i) => `${r} ${perGroup[i]}`).join(', ')}). Machine: ${machineDescription()}.`,
    '',
  );

  // 1. Signal reliability.
  lines.push('Signal reliability: share of true parent → child edges along which the signal grows (%; ties ½). Below 50: it falls.', '', ...header('signal'));
  const signalNames = [...zoos[0].signals.keys()];
  for (const name of signalNames) {
    const cell = (rs: Set<string>) => {
      const g = zoos.flatMap((z) => {
        const v = z.signals.get(name);
        return v ? edgesOf(z, rs).filter((e) => !Number.isNaN(v[e.parent]) && !Number.isNaN(v[e.child])).map((e) => grows(v, e)) : [];
      });
      return g.reduce((a, b) => a + b, 0) / g.length;
    };
    lines.push(`| ${name} | ${regimes.map((r) => pct(cell(new Set([r])))).join(' | ')} | ${pct(cell(new Set(regimes)))} |`);
  }
  const pooled: [string, (t: ScanResult['tensors'][number], s: number) => number | null][] = [
    ['per-tensor fake-init votes', (t, s) => t.fakeInitSq[s]],
    ['per-tensor norm votes', (t, s) => t.sumSq[s]],
    ['per-tensor kurtosis votes', (t, s) => tensorKurtosis(t, s)],
  ];
  for (const [name, q] of pooled) {
    const cell = (rs: Set<string>) => {
      let up = 0;
      let total = 0;
      for (const z of zoos) {
        const c = pooledVotes(z, edgesOf(z, rs), q);
        up += c.up;
        total += c.total;
      }
      return up / total;
    };
    lines.push(`| ${name} | ${regimes.map((r) => pct(cell(new Set([r])))).join(' | ')} | ${pct(cell(new Set(regimes)))} |`);
  }
  lines.push('');

  // 1b. The same by the edge's relative step (tiny-step.ts): do tiny steps reverse the signals?
  // Over the tensors detection compares: BatchNorm running statistics left out (running-stats.ts).
  const trained = zoos.flatMap((z) => {
    const weights = z.scan.tensors.filter((t) => !isRunningStat(t.name));
    return z.edges.filter((e) => !syntheticNames.includes(e.regime)).map((e) => ({ z, e, step: relativeStep(weights, e.parent, e.child) }));
  });
  const stepBins: [string, (s: number) => boolean][] = [
    ['< 1e-5', (s) => s < 1e-5],
    ['1e-5 to 1e-4', (s) => s >= 1e-5 && s < 1e-4],
    ['1e-4 to 1e-3', (s) => s >= 1e-4 && s < 1e-3],
    ['≥ 1e-3', (s) => s >= 1e-3],
  ];
  lines.push(
    'Signal reliability by the edge\'s relative step ‖parent − child‖² / ½(‖parent‖² + ‖child‖²) over the compared tensors (running statistics left out), trained groups (% of edges along which the signal grows; edges with a value in parentheses):',
    '',
    `| signal | ${stepBins.map(([b]) => b).join(' | ')} |`,
    `|---|${stepBins.map(() => '---:').join('|')}|`,
  );
  for (const name of ['norm', 'fake-init', 'gain-drift', 'kurtosis']) {
    const cells = stepBins.map(([, inBin]) => {
      const g = trained.filter((x) => inBin(x.step)).flatMap(({ z, e }) => {
        const v = z.signals.get(name)!;
        return Number.isNaN(v[e.parent]) || Number.isNaN(v[e.child]) ? [] : [grows(v, e)];
      });
      return `${pct(g.reduce((a, b) => a + b, 0) / g.length)} (${g.length})`;
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  const tinyGroups = (inBin: (s: number) => boolean) => [...new Set(trained.filter((x) => inBin(x.step)).map((x) => x.e.regime))].sort().join(', ');
  lines.push('', `Groups with edges below 1e-4: ${tinyGroups((s) => s < 1e-4)}.`, '');

  // 2. Fixed settings per regime (one detection per zoo, all regimes together).
  const results = new Map<string, DetectionResult[]>();
  for (const [name, opts] of Object.entries(FIXED)) results.set(name, zoos.map((z) => detect(z.scan, opts)));
  const accuracy = (rs: DetectionResult[], set: Set<string>) => {
    let right = 0;
    let total = 0;
    zoos.forEach((z, i) => {
      const a = directedAccuracy(rs[i], z, edgesOf(z, set));
      right += a.right;
      total += a.total;
    });
    return right / total;
  };
  lines.push('Directed-edge accuracy per regime (%), fixed settings, all seeds pooled:', '', ...header('setting'));
  for (const [name, rs] of results) lines.push(`| ${name} | ${regimes.map((r) => pct(accuracy(rs, new Set([r])))).join(' | ')} | ${pct(accuracy(rs, new Set(regimes)))} |`);
  // The same pairs in either direction: what the tree got right, before any direction.
  const pairs = (rs: DetectionResult[], set: Set<string>) => {
    let right = 0;
    let total = 0;
    zoos.forEach((z, i) => {
      const linked = new Set(rs[i].edges.flatMap((e) => [`${e.parent}>${e.child}`, `${e.child}>${e.parent}`]));
      for (const e of edgesOf(z, set)) {
        total++;
        if (linked.has(`${z.ids[e.parent]}>${z.ids[e.child]}`)) right++;
      }
    });
    return right / total;
  };
  if (zoos.some((z) => z.scan.counters)) {
    const blind = zoos.map((z) => detect({ ...z.scan, counters: undefined }));
    lines.push(`| default, step counters ignored | ${regimes.map((r) => pct(accuracy(blind, new Set([r])))).join(' | ')} | ${pct(accuracy(blind, new Set(regimes)))} |`);
  }
  if (withLearned) {
    // The shipped detector (docs/learned.md) needs the files, so simulated groups show '–'.
    // It was trained on the MLP regimes zoos: held out only for the groups it never saw.
    const filed = zoos.map((z, i) => [z, i] as const).filter(([z]) => z.set);
    const learned = new Map<number, DetectionResult>();
    const detector = arg('detector', '');
    for (const [z, i] of filed) learned.set(i, await detectLearned(z.scan, z.set!, detector ? { detector } : {}));
    const cell = (set: Set<string>) => {
      let right = 0;
      let total = 0;
      for (const [z, i] of filed) {
        const a = directedAccuracy(learned.get(i)!, z, edgesOf(z, set));
        right += a.right;
        total += a.total;
      }
      return total ? pct(right / total) : '–';
    };
    lines.push(`| learned (${detector || 'shipped detector'}) | ${regimes.map((r) => cell(new Set([r]))).join(' | ')} | ${cell(new Set(regimes))} |`);
  }
  const def = results.get('default')!;
  lines.push(`| default, pair found (either direction) | ${regimes.map((r) => pct(pairs(def, new Set([r])))).join(' | ')} | ${pct(pairs(def, new Set(regimes)))} |`);
  lines.push('');

  // 3. Leave one regime out.
  const candidates = [...Object.keys(FIXED).filter((n) => n !== 'mother'), ...FITTED];
  // The default is one of the grid's settings: where another candidate gives the very same
  // edges on every zoo, the default is not chosen as a candidate of its own (its row stays).
  const sameEdges = (a: DetectionResult[], b: DetectionResult[]) => a.every((r, i) => JSON.stringify(r.edges) === JSON.stringify(b[i].edges));
  const alias = Object.keys(FIXED).find((n) => n !== 'default' && n !== 'mother' && sameEdges(results.get(n)!, results.get('default')!));
  const pool = alias ? candidates.filter((c) => c !== 'default') : candidates;
  if (alias) process.stderr.write(`LOO: the default gives the same edges as '${alias}' on every zoo\n`);
  const held: Record<string, { chosen: string; acc: number; chosenVotes: string; accVotes: number; perCandidate: Record<string, number>; rates: Record<string, number> }> = {};
  const heldResults: { regime: string; zoo: number; result: DetectionResult }[] = [];
  for (const out of regimes) {
    const train = new Set(regimes.filter((r) => r !== out));
    const rates = fittedRates(zoos, train);
    const perTrain: Record<string, number> = {};
    const perHeld: Record<string, number> = {};
    const runs = new Map<string, DetectionResult[]>();
    for (const c of candidates) {
      const rs = (FITTED as readonly string[]).includes(c) ? zoos.map((z) => detect(z.scan, fittedOptions(c as (typeof FITTED)[number], rates))) : results.get(c)!;
      runs.set(c, rs);
      perTrain[c] = accuracy(rs, train);
      perHeld[c] = accuracy(rs, new Set([out]));
    }
    // The best on the training groups; candidates tied there share the choice (their mean
    // held-out accuracy), so the figure does not depend on the order they are listed in.
    const pick = (pool: string[]) => {
      const top = Math.max(...pool.map((c) => perTrain[c]));
      const tied = pool.filter((c) => perTrain[c] >= top - 1e-12);
      return { names: tied, acc: tied.reduce((a, c) => a + perHeld[c], 0) / tied.length };
    };
    const chosen = pick(pool);
    const chosenVotes = pick(pool.filter(keepsTensorVotes));
    held[out] = { chosen: chosen.names.join(' / '), acc: chosen.acc, chosenVotes: chosenVotes.names.join(' / '), accVotes: chosenVotes.acc, perCandidate: perHeld, rates };
    // The confidence bins take, of the tied settings, the one with the fewest edges wrong in
    // families of confidence ≥ 0.95 on the training groups (what high confidence should mean;
    // settings that change only confidences tie on accuracy), then the first listed.
    const wrongWhenSure = (c: string) => highConfidenceWrong(zoos, runs.get(c)!, train);
    const forBins = chosenVotes.names.reduce((best, c) => (wrongWhenSure(c) < wrongWhenSure(best) ? c : best));
    runs.get(forBins)!.forEach((result, zoo) => heldResults.push({ regime: out, zoo, result }));
    process.stderr.write(`LOO ${out}: chose ${held[out].chosen} (train ${pct(perTrain[chosen.names[0]])}), held-out ${pct(chosen.acc)}; with tensor votes ${held[out].chosenVotes}, held-out ${pct(chosenVotes.acc)}\n`);
  }
  lines.push('Leave-one-regime-out: held-out directed accuracy (%) of each candidate (signal error rates fitted on the other regimes), and of the candidate chosen by its accuracy on the other regimes:', '', `| candidate | ${regimes.join(' | ')} | mean |`, `|---|${regimes.map(() => '---:').join('|')}|---:|`);
  const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const c of candidates) lines.push(`| ${c} | ${regimes.map((r) => pct(held[r].perCandidate[c])).join(' | ')} | ${pct(meanOf(regimes.map((r) => held[r].perCandidate[c])))} |`);
  lines.push(`| **chosen by LOO** | ${regimes.map((r) => `${pct(held[r].acc)} (${held[r].chosen})`).join(' | ')} | ${pct(meanOf(regimes.map((r) => held[r].acc)))} |`);
  lines.push(`| **chosen by LOO among settings with per-tensor votes** | ${regimes.map((r) => `${pct(held[r].accVotes)} (${held[r].chosenVotes})`).join(' | ')} | ${pct(meanOf(regimes.map((r) => held[r].accVotes)))} |`, '');

  // 4. Accuracy per family direction-confidence bin: the LOO-chosen settings on held-out
  // regimes, then the default on every group (a setting chosen in one fold may differ).
  const bins = [0, 0.6, 0.8, 0.95, 1.0001];
  const binTable = (runs: { regime: string; zoo: number; result: DetectionResult }[]) => {
    const right = bins.slice(1).map(() => 0);
    const total = bins.slice(1).map(() => 0);
    // Reversed: the pair found with parent and child swapped (a direction error, not a tree one).
    const reversed = bins.slice(1).map(() => 0);
    // Which groups the reversals in the top bin come from (the target says none there).
    const topReversed: string[] = [];
    for (const { regime, zoo, result } of runs) {
      const z = zoos[zoo];
      const conf = familyConfidenceOf(result);
      const parentOf = new Map(result.edges.map((e) => [e.child, e.parent]));
      for (const e of z.edges.filter((x) => x.regime === regime)) {
        const c = conf.get(z.ids[e.child]);
        if (c === undefined || Number.isNaN(c)) continue;
        const b = bins.findIndex((lo, i) => i + 1 < bins.length && c >= lo && c < bins[i + 1]);
        total[b]++;
        if (parentOf.get(z.ids[e.child]) === z.ids[e.parent]) right[b]++;
        if (parentOf.get(z.ids[e.parent]) === z.ids[e.child]) {
          reversed[b]++;
          if (b === bins.length - 2) topReversed.push(`${regime} (${c.toFixed(3)})`);
        }
      }
    }
    lines.push('| family direction confidence | true edges | directed accuracy (%) | found reversed |', '|---|---:|---:|---:|');
    bins.slice(1).forEach((hi, i) => lines.push(`| [${bins[i]}, ${Math.min(1, hi)}${hi > 1 ? ']' : ')'} | ${total[i]} | ${pct(right[i] / total[i])} | ${reversed[i]} |`));
    lines.push('', `Reversed at family direction confidence ≥ ${bins[bins.length - 2]}: ${topReversed.length ? topReversed.join(', ') : 'none'}.`);
  };
  lines.push('Directed accuracy by family direction confidence (settings chosen by LOO among those with per-tensor votes, on held-out regimes):', '');
  binTable(heldResults);
  lines.push('', 'The same for the default, every group:', '');
  binTable(regimes.flatMap((regime) => def.map((result, zoo) => ({ regime, zoo, result }))));
  // Settings that weigh near-twin readings change the confidences themselves (near-twins.ts).
  for (const [name, o] of Object.entries(FIXED)) {
    if (name === 'default' || o.nearTwins === undefined || o.nearTwins === 'ignore') continue;
    lines.push('', `The same for "${name}", every group:`, '');
    binTable(regimes.flatMap((regime) => results.get(name)!.map((result, zoo) => ({ regime, zoo, result }))));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify({ seeds, families, held }, null, 2));
}

main().catch((e) => {
  process.stderr.write(`eval:regimes failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
