/**
 * The learned detector beside every learning-free method, on the paper's protocol: per run,
 * each zoo's children are split train/val/test 7:1:2 (seed = run), the detector is trained
 * on the train children of a preset's zoos with early stopping on val, and every method is
 * scored on the same test children (directed-edge accuracy: the share whose parent is right).
 * Then transfer: the run-0 detector of each preset applied to all children of every other
 * preset's zoos, and per preset with several zoos, a detector trained on all but its first
 * zoo applied to the first (another seed, never seen in training).
 *
 *   npm run build:ts && node dist/scripts/eval-learned.js \
 *     --presets mnist-fc,mnist-cnn,tiny-llama --seeds 0,1,2,3,4 [--runs 5] [--epochs 100]
 *     [--patience 30] [--no-encoder] [--tree-prior 0] [--no-tree-input] [--tree-gate B]
 *     [--out FILE.json] [--fc-runs N]   (runs for mnist-fc only; default --runs)
 *
 * --tree-gate: the β the detectors decode with (default DEFAULT_TREE_GATE, chosen across
 * training regimes; the tables in docs/learned.md "Results" were measured before the gate
 * existed, i.e. with --tree-gate 0).
 *
 * --presets/--seeds take the small zoos from ensureZoo (cached; built when missing); or name
 * zoo directories directly: --fc DIR[,DIR] --cnn DIR[,DIR] --llama DIR[,DIR].
 *
 * Zoos come from `buildZoo` (lib/zoo); the table goes to stdout, the details to --out.
 */
import { InvalidArgumentError } from '../lib/errors';
import * as fs from 'fs';
import * as path from 'path';
import { detect } from '../lib/detect/detect';
import { METHODS } from '../lib/detect/methods/registry';
import { createRng } from '../lib/graph/rng';
import { loadZoo, PreparedSet, Role, splitChildren } from '../lib/learned/data';
import { EpochReport, fitDetector } from '../lib/learned/fit';
import { DEFAULT_CONFIG, DetectorConfig } from '../lib/learned/model';
import { isTreeGate } from '../lib/learned/tree-gate';
import { disposeDetector } from '../lib/learned/store';
import { testAccuracy } from '../lib/learned/train';
import { selectBackend } from '../lib/zoo/backend';
import { ensureZoo, type ZooPreset } from '../lib/zoo';
import { handleUsage } from './usage';

handleUsage(__filename, ['presets', 'seeds', 'runs', 'fc-runs', 'epochs', 'patience', 'no-encoder', 'tree-prior', 'no-tree-input', 'tree-gate', 'out', 'fc', 'cnn', 'llama']);

interface Args {
  fc: string[];
  cnn: string[];
  llama: string[];
  runs: number;
  epochs: number;
  patience: number;
  out?: string;
  useEncoder: boolean;
  treePrior: number;
  treeInput: boolean;
  treeGate: number;
  presets: string[];
  seeds: number[];
  /** Runs of the mnist-fc preset (default: --runs); 1 when only its transfer detector is wanted. */
  fcRuns?: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { fc: [], cnn: [], llama: [], runs: 5, epochs: 100, patience: 30, useEncoder: true, treePrior: DEFAULT_CONFIG.treePrior, treeInput: true, treeGate: DEFAULT_CONFIG.treeGate ?? 0, presets: [], seeds: [0, 1, 2, 3, 4] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--fc': a.fc = v.split(','); i++; break;
      case '--cnn': a.cnn = v.split(','); i++; break;
      case '--llama': a.llama = v.split(','); i++; break;
      case '--tree-prior': a.treePrior = Number(v); i++; break;
      case '--no-tree-input': a.treeInput = false; a.treePrior = 0; break;
      case '--tree-gate': a.treeGate = Number(v); i++; break;
      case '--presets': a.presets = v.split(','); i++; break;
      case '--seeds': a.seeds = v.split(',').map(Number); i++; break;
      case '--runs': a.runs = Number(v); i++; break;
      case '--epochs': a.epochs = Number(v); i++; break;
      case '--patience': a.patience = Number(v); i++; break;
      case '--out': a.out = v; i++; break;
      case '--no-encoder': a.useEncoder = false; break;
      case '--fc-runs': a.fcRuns = Number(v); i++; break;
      default: throw new InvalidArgumentError('E_INVALID_ARG', `unknown argument ${argv[i]}`);
    }
  }
  return a;
}

/** Every 10th epoch on stderr: long runs show they are alive. */
const progress = (label: string, run: number) => (e: EpochReport) => {
  if (e.epoch % 10 === 0) console.error(`  ${label} run ${run} epoch ${e.epoch}: loss ${e.loss.toFixed(3)}, val ${(100 * e.valAccuracy).toFixed(1)}%`);
};

type Sets = { ps: PreparedSet; roles: Role[] }[];

/** A learning-free method's accuracy over the models of `role` in every set. */
function freeAccuracy(method: string, sets: Sets, role: Role): number {
  let right = 0;
  let total = 0;
  for (const s of sets) {
    const r = detect(s.ps.scan, { method: method as never });
    const index = new Map(s.ps.scan.models.map((m, i) => [m.id, i]));
    const parent = new Int32Array(s.ps.scan.models.length).fill(-1);
    for (const e of r.edges) parent[index.get(e.child)!] = index.get(e.parent)!;
    s.roles.forEach((x, m) => {
      if (x !== role) return;
      total++;
      if (parent[m] === s.ps.parent![m]) right++;
    });
  }
  return total ? right / total : NaN;
}

const pct = (x: number) => (Number.isNaN(x) ? '  n/a' : (100 * x).toFixed(1).padStart(5));
const meanSd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean: m, sd };
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await selectBackend('auto');
  const byPreset: Record<string, 'fc' | 'cnn' | 'llama'> = { 'mnist-fc': 'fc', 'mnist-cnn': 'cnn', 'tiny-llama': 'llama' };
  for (const preset of args.presets) {
    const key = byPreset[preset];
    if (!key) throw new InvalidArgumentError('E_INVALID_ARG', `unknown preset ${preset} (mnist-fc, mnist-cnn, tiny-llama)`);
    for (const seed of args.seeds) {
      args[key].push((await ensureZoo({ preset: preset as ZooPreset, scale: 'small', seed, log: (l) => console.error(l) })).outDir);
    }
  }
  if (!isTreeGate(args.treeGate)) throw new InvalidArgumentError('E_INVALID_ARG', `--tree-gate must be a number >= 0, got ${args.treeGate}`);
  const config: DetectorConfig = { ...DEFAULT_CONFIG, useEncoder: args.useEncoder, treePrior: args.treePrior, treeInput: args.treeInput, treeGate: args.treeGate };
  const presets: [string, string[]][] = [['mnist-fc', args.fc], ['mnist-cnn', args.cnn], ['tiny-llama', args.llama]].filter(([, d]) => (d as string[]).length > 0) as [string, string[]][];
  const loaded = new Map<string, PreparedSet>();
  for (const [, dirs] of presets) for (const d of dirs) if (!loaded.has(d)) loaded.set(d, await loadZoo(d, config));
  const details: Record<string, unknown> = { config, args };
  const rows: string[] = [];
  const header = ['preset', 'learned', ...METHODS.map((m) => m.name), 'chance'];
  rows.push(header.map((h) => h.padEnd(Math.max(7, h.length))).join(' '));
  const trained = new Map<string, ReturnType<typeof fitDetector>['model']>();

  for (const [preset, dirs] of presets) {
    const learned: number[] = [];
    const chance: number[] = [];
    const free = new Map<string, number[]>(METHODS.map((m) => [m.name, []]));
    const runs: unknown[] = [];
    const nRuns = preset === 'mnist-fc' && args.fcRuns !== undefined ? args.fcRuns : args.runs;
    for (let run = 0; run < nRuns; run++) {
      const rng = createRng(run);
      const sets: Sets = dirs.map((d) => ({ ps: loaded.get(d)!, roles: splitChildren(loaded.get(d)!.parent!, rng) }));
      const t0 = Date.now();
      const fit = fitDetector(sets, config, { epochs: args.epochs, learningRate: 0.01, seed: run, patience: args.patience, valCrops: 4, onEpoch: progress(preset, run) });
      const test = await testAccuracy(fit.model, sets, 'native');
      learned.push(test.accuracy);
      chance.push(test.chance);
      for (const m of METHODS) free.get(m.name)!.push(freeAccuracy(m.name, sets, 'test'));
      runs.push({ run, test, bestEpoch: fit.bestEpoch, epochs: fit.history.length, seconds: (Date.now() - t0) / 1000 });
      console.error(`${preset} run ${run}: learned ${pct(test.accuracy)}% over ${test.children} test children (best epoch ${fit.bestEpoch}/${fit.history.length}, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      if (run === 0) trained.set(preset, fit.model);
      else disposeDetector(fit.model);
    }
    const cell = (xs: number[]) => {
      const { mean, sd } = meanSd(xs);
      return `${pct(mean)}±${(100 * sd).toFixed(1)}`;
    };
    rows.push([preset.padEnd(10), cell(learned), ...METHODS.map((m) => cell(free.get(m.name)!)), cell(chance)].join(' '));
    details[preset] = { runs, learned, chance, free: Object.fromEntries(free) };
  }

  // Transfer: the run-0 detector of each preset on every child of the other presets' zoos.
  const transfer: string[] = [];
  const allChildren = (d: string): Sets => {
    const ps = loaded.get(d)!;
    return [{ ps, roles: Array.from(ps.parent!, (p) => (p < 0 ? 'root' : 'test')) }];
  };
  const applyTo = async (model: ReturnType<typeof fitDetector>['model'], label: string, d: string) => {
    const r = await testAccuracy(model, allChildren(d), 'native');
    const free = METHODS.map((m) => ({ name: m.name, acc: freeAccuracy(m.name, allChildren(d), 'test') }));
    const best = free.reduce((x, y) => (y.acc > x.acc ? y : x));
    transfer.push(`${label} (${path.basename(d)}): learned ${pct(r.accuracy)}% over ${r.children} children; best learning-free ${pct(best.acc)}% (${best.name}); chance ${pct(r.chance)}%`);
  };
  for (const [from] of presets) {
    for (const [to, dirs] of presets) {
      if (to === from) continue;
      for (const d of dirs) await applyTo(trained.get(from)!, `${from} → ${to}`, d);
    }
  }
  // Another seed: trained (90/10 train/val) on every zoo of the preset but the first, applied
  // to all children of the first.
  for (const [preset, dirs] of presets) {
    if (dirs.length < 2) continue;
    const rng = createRng(100);
    const sets: Sets = dirs.slice(1).map((d) => ({ ps: loaded.get(d)!, roles: splitChildren(loaded.get(d)!.parent!, rng, [0.9, 0.1, 0]) }));
    const fit = fitDetector(sets, config, { epochs: args.epochs, learningRate: 0.01, seed: 100, patience: args.patience, valCrops: 4, onEpoch: progress(`${preset} other seeds`, 0) });
    await applyTo(fit.model, `${preset}, ${dirs.length - 1} other seeds → unseen seed`, dirs[0]);
    disposeDetector(fit.model);
  }
  details.transfer = transfer;
  console.log(`Test directed-edge accuracy (%), mean ± sd over runs (mnist-fc: ${args.fcRuns ?? args.runs}, others: ${args.runs}); children split 7:1:2 per run`);
  for (const r of rows) console.log(r);
  console.log('\nTransfer (all children of the target zoos):');
  for (const t of transfer) console.log('  ' + t);
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(details, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
