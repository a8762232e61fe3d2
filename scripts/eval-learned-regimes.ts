/**
 * The learned detector leave-one-regime-out on the `regimes` zoos (lib/zoo/regimes.ts: nine
 * training regimes), beside the default method (additive-tree) and MoTHer on the same edges.
 *
 * For each held-out group (a regime, or a preset named by --presets, e.g. mnist-fc): the
 * detector trains on every zoo with the held-out group's models removed (the model set and
 * its lineage restricted to the other groups, rescanned), its children split train/val/test
 * 7:1:2 with seed = run and early stopping on the val children, as scripts/eval-learned.ts
 * does; it is then run on each whole zoo that holds the group (all models, as eval:regimes
 * runs the learning-free methods) and scored on the held-out group's true edges only
 * (directed-edge accuracy: the share of those children whose decoded parent is the true one).
 * The learning-free methods are scored on the same edges of the same whole-zoo scans, so their
 * columns equal eval:regimes' "default" and "mother" rows.
 *
 *   npm run build:ts && node dist/scripts/eval-learned-regimes.js \
 *     [--seeds 0,1,2,3,4] [--families 2] [--presets mnist-fc] [--runs 1] [--epochs 40]
 *     [--patience 10] [--groups sgd,tiny] [--json FILE]
 *
 * --groups holds out only the named groups (default: all). Zoos come from ensureZoo (cached).
 */
import * as fs from 'fs';
import { detect } from '../lib/detect/detect';
import { InvalidArgumentError } from '../lib/errors';
import { createRng } from '../lib/graph/rng';
import { openModels } from '../lib/io/discover';
import type { ModelSet } from '../lib/io/types';
import { prepareSet, PreparedSet, Role, splitChildren } from '../lib/learned/data';
import { fitDetector } from '../lib/learned/fit';
import { DEFAULT_CONFIG } from '../lib/learned/model';
import { disposeDetector } from '../lib/learned/store';
import { testAccuracy } from '../lib/learned/train';
import { scanModelSet } from '../lib/scan/scan';
import { selectBackend } from '../lib/zoo/backend';
import { ensureZoo, type ZooPreset } from '../lib/zoo';
import { REGIMES } from '../lib/zoo/regimes';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';
import { SHIPPED_TRAINING } from '../lib/learned/shipped';

handleUsage(__filename, ['seeds', 'families', 'presets', 'runs', 'epochs', 'patience', 'groups', 'json']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface Zoo {
  label: string;
  set: ModelSet;
  /** Group (regime or preset) of each model, in set order. */
  group: string[];
  /** The whole zoo, scanned and prepared (the test context). */
  whole: PreparedSet;
}

/** The model set restricted to models whose group is not `out` (lineage restricted too). */
function without(z: Zoo, out: string): ModelSet {
  const keep = new Set(z.set.models.filter((_, i) => z.group[i] !== out).map((m) => m.id));
  const lineage = z.set.lineage!;
  return {
    models: z.set.models.filter((m) => keep.has(m.id)),
    lineage: { edges: lineage.edges.filter((e) => keep.has(e.child) && keep.has(e.parent)), families: lineage.families.map((f) => f.filter((id) => keep.has(id))).filter((f) => f.length > 0) },
    warnings: [],
  };
}

/** Share of the held-out group's children whose parent under `parentOf` is the true one. */
function scoreGroup(z: Zoo, out: string, parentOf: (m: number) => number): { right: number; total: number } {
  let right = 0;
  let total = 0;
  z.whole.parent!.forEach((p, m) => {
    if (p < 0 || z.group[m] !== out) return;
    total++;
    if (parentOf(m) === p) right++;
  });
  return { right, total };
}

function freeParents(ps: PreparedSet, method?: 'mother'): Int32Array {
  const r = detect(ps.scan, method ? { method } : {});
  const index = new Map(ps.scan.models.map((m, i) => [m.id, i]));
  const parent = new Int32Array(ps.scan.models.length).fill(-1);
  for (const e of r.edges) parent[index.get(e.child)!] = index.get(e.parent)!;
  return parent;
}

const pct = (x: number) => (Number.isNaN(x) ? '–' : (100 * x).toFixed(1));

async function main(): Promise<void> {
  const seeds = arg('seeds', '0,1,2,3,4').split(',').map(Number);
  const families = Number(arg('families', '2'));
  const presets = arg('presets', '').split(',').filter(Boolean) as ZooPreset[];
  const runs = Number(arg('runs', '1'));
  const epochs = Number(arg('epochs', String(SHIPPED_TRAINING.epochs)));
  const patience = Number(arg('patience', String(SHIPPED_TRAINING.patience)));
  for (const p of presets) if (p !== 'mnist-fc' && p !== 'mnist-cnn' && p !== 'tiny-llama') throw new InvalidArgumentError('E_INVALID_ARG', `--presets: ${p} is not mnist-fc, mnist-cnn or tiny-llama`);
  await selectBackend('auto');
  const config = { ...DEFAULT_CONFIG };
  const zoos: Zoo[] = [];
  for (const preset of ['regimes' as ZooPreset, ...presets]) {
    for (const seed of seeds) {
      const opts = preset === 'regimes' ? { preset, seed, families } : { preset, seed, scale: 'small' as const };
      const summary = await ensureZoo({ ...opts, log: (l) => process.stderr.write(`${l}\n`) });
      const set = await openModels([summary.outDir]);
      const groupOf = new Map(summary.models.map((m) => [m.id, String(m.hyperparameters.regime ?? preset)]));
      const scan = await scanModelSet(set, { device: 'cpu' });
      zoos.push({ label: `${preset} seed ${seed}`, set, group: set.models.map((m) => groupOf.get(m.id)!), whole: prepareSet(summary.outDir, set, scan, config) });
    }
  }
  const all: string[] = [...REGIMES, ...presets].filter((g) => zoos.some((z) => z.group.includes(g)));
  const groups = arg('groups', all.join(',')).split(',');
  for (const g of groups) if (!all.includes(g)) throw new InvalidArgumentError('E_INVALID_ARG', `--groups: ${g} is not one of ${all.join(', ')}`);

  const rows: { group: string; learned: number[]; free: { default: number; mother: number }; edges: number; chance: number; bestEpochs: number[]; seconds: number[] }[] = [];
  for (const out of groups) {
    // Training sets: every zoo without the held-out group's models (zoos with nothing else left drop out).
    const train: PreparedSet[] = [];
    for (const z of zoos) {
      const sub = without(z, out);
      if (!sub.lineage!.edges.length) continue;
      train.push(prepareSet(`${z.label} without ${out}`, sub, await scanModelSet(sub, { device: 'cpu' }), config));
    }
    const held = zoos.filter((z) => z.group.includes(out));
    const count = (f: (z: Zoo) => { right: number; total: number }) => {
      const c = held.map(f).reduce((a, b) => ({ right: a.right + b.right, total: a.total + b.total }), { right: 0, total: 0 });
      return { acc: c.right / c.total, total: c.total };
    };
    const def = count((z) => {
      const p = freeParents(z.whole);
      return scoreGroup(z, out, (m) => p[m]);
    });
    const mother = count((z) => {
      const p = freeParents(z.whole, 'mother');
      return scoreGroup(z, out, (m) => p[m]);
    });
    const row = { group: out, learned: [] as number[], free: { default: def.acc, mother: mother.acc }, edges: def.total, chance: NaN, bestEpochs: [] as number[], seconds: [] as number[] };
    for (let run = 0; run < runs; run++) {
      const t0 = Date.now();
      const rng = createRng(run);
      const sets = train.map((ps) => ({ ps, roles: splitChildren(ps.parent!, rng) }));
      const fit = fitDetector(sets, config, { epochs, learningRate: SHIPPED_TRAINING.learningRate, seed: run, patience, valCrops: 4 });
      // Test: every whole zoo holding the group, its children of that group as 'test'.
      const test = await testAccuracy(
        fit.model,
        held.map((z) => ({ ps: z.whole, roles: Array.from(z.whole.parent!, (p, m): Role => (p >= 0 && z.group[m] === out ? 'test' : 'root')) })),
        'native',
      );
      disposeDetector(fit.model);
      row.learned.push(test.accuracy);
      row.chance = test.chance;
      row.bestEpochs.push(fit.bestEpoch);
      row.seconds.push((Date.now() - t0) / 1000);
      process.stderr.write(`held out ${out} run ${run}: learned ${pct(test.accuracy)} over ${test.children} children, default ${pct(def.acc)}, mother ${pct(mother.acc)} (best epoch ${fit.bestEpoch}/${fit.history.length}, ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
    rows.push(row);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));
  const lines = [
    `Zoos: regimes seeds ${seeds.join(', ')}, ${families} families per regime${presets.length ? `; ${presets.join(', ')} (small), the same seeds` : ''}. ${runs} run(s), epochs ≤ ${epochs}, patience ${patience}. Machine: ${machineDescription()}.`,
    '',
    `Leave-one-group-out: held-out directed accuracy (%)${runs > 1 ? ', learned as mean ± sd over runs' : ''}:`,
    '',
    `| held out | true edges | learned | default (additive-tree) | mother | chance | best epochs |`,
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.group} | ${r.edges} | ${pct(mean(r.learned))}${runs > 1 ? ` ± ${(100 * sd(r.learned)).toFixed(1)}` : ''} | ${pct(r.free.default)} | ${pct(r.free.mother)} | ${pct(r.chance)} | ${r.bestEpochs.join(', ')} |`),
  ];
  // Pooled over edges (groups weigh by their edge counts, as eval:regimes' "all" column).
  const pooled = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r) * r.edges, 0) / rows.reduce((a, r) => a + r.edges, 0);
  lines.push(`| **all (pooled)** | ${rows.reduce((a, r) => a + r.edges, 0)} | ${pct(pooled((r) => mean(r.learned)))} | ${pct(pooled((r) => r.free.default))} | ${pct(pooled((r) => r.free.mother))} | | |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify({ seeds, families, presets, runs, epochs, patience, rows }, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`eval-learned-regimes failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
