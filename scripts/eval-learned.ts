/**
 * The learned detector beside every learning-free method, on the paper's protocol: per run,
 * each zoo's children are split train/val/test 7:1:2 (seed = run), the detector is trained
 * on the train children of a preset's zoos with early stopping on val, and every method is
 * scored on the same test children (directed-edge accuracy: the share whose parent is right).
 * Then transfer: trained on one zoo set, applied to all children of another.
 *
 *   npm run build:ts && node dist/scripts/eval-learned.js \
 *     --fc DIR[,DIR] --cnn DIR[,DIR] [--runs 5] [--epochs 100] [--patience 30] [--out FILE.json]
 *
 * Zoos come from `buildZoo` (lib/zoo); the table goes to stdout, the details to --out.
 */
import * as fs from 'fs';
import { detect } from '../lib/detect/detect';
import { METHODS } from '../lib/detect/options';
import { createRng } from '../lib/detect/rng';
import { loadZoo, PreparedSet, Role, splitChildren } from '../lib/learned/data';
import { fitDetector } from '../lib/learned/fit';
import { DEFAULT_CONFIG, DetectorConfig } from '../lib/learned/model';
import { disposeDetector } from '../lib/learned/store';
import { testAccuracy } from '../lib/learned/train';
import { selectBackend } from '../lib/zoo/backend';

interface Args {
  fc: string[];
  cnn: string[];
  runs: number;
  epochs: number;
  patience: number;
  out?: string;
  useEncoder: boolean;
  /** Runs of the mnist-fc preset (default: --runs); 1 when only its transfer detector is wanted. */
  fcRuns?: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { fc: [], cnn: [], runs: 5, epochs: 100, patience: 30, useEncoder: true };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--fc': a.fc = v.split(','); i++; break;
      case '--cnn': a.cnn = v.split(','); i++; break;
      case '--runs': a.runs = Number(v); i++; break;
      case '--epochs': a.epochs = Number(v); i++; break;
      case '--patience': a.patience = Number(v); i++; break;
      case '--out': a.out = v; i++; break;
      case '--no-encoder': a.useEncoder = false; break;
      case '--fc-runs': a.fcRuns = Number(v); i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return a;
}

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
  const config: DetectorConfig = { ...DEFAULT_CONFIG, useEncoder: args.useEncoder };
  const presets: [string, string[]][] = [['mnist-fc', args.fc], ['mnist-cnn', args.cnn]].filter(([, d]) => (d as string[]).length > 0) as [string, string[]][];
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
      const fit = fitDetector(sets, config, { epochs: args.epochs, learningRate: 0.01, seed: run, patience: args.patience, valCrops: 4 });
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
    rows.push([preset.padEnd(7), cell(learned), ...METHODS.map((m) => cell(free.get(m.name)!)), cell(chance)].join(' '));
    details[preset] = { runs, learned, chance, free: Object.fromEntries(free) };
  }

  // Transfer: the run-0 detector of one preset on every child of the other preset's zoos,
  // and of one seed's zoo on another seed's (train on the first fc zoo only).
  const transfer: string[] = [];
  const allChildren = (d: string): Sets => {
    const ps = loaded.get(d)!;
    return [{ ps, roles: Array.from(ps.parent!, (p) => (p < 0 ? 'root' : 'test')) }];
  };
  for (const [from, to] of [['mnist-fc', 'mnist-cnn'], ['mnist-cnn', 'mnist-fc']]) {
    const model = trained.get(from);
    const target = presets.find(([p]) => p === to);
    if (!model || !target) continue;
    for (const d of target[1]) {
      const r = await testAccuracy(model, allChildren(d), 'native');
      const best = Math.max(...METHODS.map((m) => freeAccuracy(m.name, allChildren(d), 'test')));
      transfer.push(`${from} → ${to} (${d}): learned ${pct(r.accuracy)}% over ${r.children} children; best learning-free ${pct(best)}%; chance ${pct(r.chance)}%`);
    }
  }
  if (args.fc.length >= 2) {
    const rng = createRng(100);
    const src = loaded.get(args.fc[0])!;
    const fit = fitDetector([{ ps: src, roles: splitChildren(src.parent!, rng, [0.9, 0.1, 0]) }], config, { epochs: args.epochs, learningRate: 0.01, seed: 100, patience: args.patience, valCrops: 4 });
    for (const d of args.fc.slice(1)) {
      const r = await testAccuracy(fit.model, allChildren(d), 'native');
      const best = Math.max(...METHODS.map((m) => freeAccuracy(m.name, allChildren(d), 'test')));
      transfer.push(`mnist-fc ${args.fc[0]} → other seed ${d}: learned ${pct(r.accuracy)}% over ${r.children} children; best learning-free ${pct(best)}%; chance ${pct(r.chance)}%`);
    }
  }
  details.transfer = transfer;
  console.log(`Test directed-edge accuracy (%), mean ± sd over runs (mnist-fc: ${args.fcRuns ?? args.runs}, mnist-cnn: ${args.runs}); children split 7:1:2 per run`);
  for (const r of rows) console.log(r);
  console.log('\nTransfer (all children of the target zoos):');
  for (const t of transfer) console.log('  ' + t);
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(details, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
