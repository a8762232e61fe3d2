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
 * The tree gate (lib/learned/tree-gate.ts gateLogits) is chosen here, by the same leave-one-out:
 * each run's held-out logits are decoded at every β of TREE_GATES; the column "learned, gated"
 * scores each held-out group at the β that was best pooled over the other groups' held-out
 * edges (ties: the smaller β), so no group's score picks its own β. The β best over all
 * groups is what DEFAULT_TREE_GATE (lib/learned/tree-gate.ts) records, and with it the shipped detector.
 *
 *   npm run build:ts && node dist/scripts/eval-learned-regimes.js \
 *     [--seeds 0,1,2,3,4] [--families 2] [--presets mnist-fc] [--runs 1] [--epochs 40]
 *     [--patience 10] [--groups sgd,tiny] [--json FILE]
 *   node dist/scripts/eval-learned-regimes.js --combine A.json,B.json
 *
 * --groups holds out only the named groups (default: all); --combine reports over the --json
 * files of several such processes, as one run over all their groups would. Zoos come from
 * ensureZoo (cached).
 */
import * as fs from 'fs';
import { detect } from '../lib/detect/detect';
import { InvalidArgumentError } from '../lib/errors';
import { createRng } from '../lib/graph/rng';
import { openModels } from '../lib/io/discover';
import type { ModelSet } from '../lib/io/types';
import { prepareSet, PreparedSet, splitChildren } from '../lib/learned/data';
import { fitDetector } from '../lib/learned/fit';
import { DEFAULT_CONFIG } from '../lib/learned/model';
import { disposeDetector } from '../lib/learned/store';
import { decodeForest } from '../lib/learned/decode';
import { gateLogits } from '../lib/learned/tree-gate';
import { runDetector } from '../lib/learned/infer';
import { scanModelSet } from '../lib/scan/scan';
import { selectBackend } from '../lib/zoo/backend';
import { ensureZoo, type ZooPreset } from '../lib/zoo';
import { REGIMES } from '../lib/zoo/regimes';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';
import { SHIPPED_TRAINING } from '../lib/learned/shipped';

handleUsage(__filename, ['seeds', 'families', 'presets', 'runs', 'epochs', 'patience', 'groups', 'json', 'combine']);

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

/** β values of the tree gate tried (0: the network alone). */
const TREE_GATES = [0, 0.25, 0.5, 1, 2, 4];

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

  // learned[run][gate]: held-out directed-edge accuracy of that run's detector decoded at TREE_GATES[gate].
  const json = arg('json', '');
  const rows: { group: string; learned: number[][]; free: { default: number; mother: number }; edges: number; chance: number; bestEpochs: number[]; seconds: number[] }[] = [];
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
    const row = { group: out, learned: [] as number[][], free: { default: def.acc, mother: mother.acc }, edges: def.total, chance: NaN, bestEpochs: [] as number[], seconds: [] as number[] };
    for (let run = 0; run < runs; run++) {
      const t0 = Date.now();
      const rng = createRng(run);
      const sets = train.map((ps) => ({ ps, roles: splitChildren(ps.parent!, rng) }));
      const fit = fitDetector(sets, config, { epochs, learningRate: SHIPPED_TRAINING.learningRate, seed: run, patience, valCrops: 4 });
      // Test: every whole zoo holding the group, its children of that group; the network runs
      // once per zoo and its logits are decoded at every β.
      const right = TREE_GATES.map(() => 0);
      let total = 0;
      let chance = 0;
      for (const z of held) {
        const ps = z.whole;
        const { logits } = await runDetector(fit.model, ps, { engine: 'native', treeGate: 0 });
        const models = [...ps.parent!.keys()].filter((m) => ps.parent![m] >= 0 && z.group[m] === out);
        total += models.length;
        for (const m of models) chance += 1 / ps.graph.choices[m].length;
        TREE_GATES.forEach((beta, g) => {
          const parent = decodeForest(gateLogits(logits, ps.features.edge, ps.features.node, ps.features.pairs.length, ps.scan.models.length, beta), ps.graph, ps.features.pairs, ps.scan.models.length).parent;
          right[g] += models.filter((m) => parent[m] === ps.parent![m]).length;
        });
      }
      disposeDetector(fit.model);
      const test = { accuracy: right[0] / total, children: total, chance: chance / total };
      row.learned.push(right.map((r) => r / total));
      row.chance = test.chance;
      row.bestEpochs.push(fit.bestEpoch);
      row.seconds.push((Date.now() - t0) / 1000);
      process.stderr.write(`held out ${out} run ${run}: learned ${pct(test.accuracy)} (gated ${TREE_GATES.map((b, g) => `${b}: ${pct(row.learned[run][g])}`).join(', ')}) over ${test.children} children, default ${pct(def.acc)}, mother ${pct(mother.acc)} (best epoch ${fit.bestEpoch}/${fit.history.length}, ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
    rows.push(row);
    // Written after each group, so a long run interrupted keeps what it measured.
    if (json) fs.writeFileSync(json, JSON.stringify({ seeds, families, presets, runs, epochs, patience, gates: TREE_GATES, machine: machineDescription(), rows }, null, 2) + '\n');
  }
  process.stdout.write(report({ seeds, families, presets, runs, epochs, patience, machine: machineDescription(), rows }));
}

type Row = { group: string; learned: number[][]; free: { default: number; mother: number }; edges: number; chance: number; bestEpochs: number[] };
interface Results { seeds: number[]; families: number; presets: string[]; runs: number; epochs: number; patience: number; gates?: number[]; machine: string; rows: Row[] }

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** Index into TREE_GATES of the β with the most held-out edges right over `rows` (all runs), ties to the smaller β. */
function bestGate(rows: Row[]): number {
  const right = TREE_GATES.map((_, g) => rows.reduce((a, r) => a + r.edges * mean(r.learned.map((run) => run[g])), 0));
  let best = 0;
  right.forEach((v, g) => { if (v > right[best] + 1e-9) best = g; });
  return best;
}

/** The tables: per group, the network alone, gated at the β the other groups chose, the learning-free methods. */
function report(res: Results): string {
  const { rows, runs } = res;
  const pm = (xs: number[]) => `${pct(mean(xs))}${runs > 1 ? ` ± ${(100 * sd(xs)).toFixed(1)}` : ''}`;
  const chosen = rows.map((r) => bestGate(rows.filter((o) => o !== r)));
  const lines = [
    `Zoos: regimes seeds ${res.seeds.join(', ')}, ${res.families} families per regime${res.presets.length ? `; ${res.presets.join(', ')} (small), the same seeds` : ''}. ${runs} run(s), epochs ≤ ${res.epochs}, patience ${res.patience}. Machine: ${res.machine}.`,
    '',
    `Leave-one-group-out: held-out directed accuracy (%)${runs > 1 ? ', learned as mean ± sd over runs' : ''}. "gated": the tree gate at the β chosen on the other groups' held-out edges:`,
    '',
    `| held out | true edges | learned, gated | β | learned, no gate | default (additive-tree) | mother | chance | best epochs |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r, i) => `| ${r.group} | ${r.edges} | ${pm(r.learned.map((run) => run[chosen[i]]))} | ${TREE_GATES[chosen[i]]} | ${pm(r.learned.map((run) => run[0]))} | ${pct(r.free.default)} | ${pct(r.free.mother)} | ${pct(r.chance)} | ${r.bestEpochs.join(', ')} |`),
  ];
  // Pooled over edges (groups weigh by their edge counts, as eval:regimes' "all" column).
  const edges = rows.reduce((a, r) => a + r.edges, 0);
  const pooled = (f: (r: Row, i: number) => number) => rows.reduce((a, r, i) => a + f(r, i) * r.edges, 0) / edges;
  lines.push(`| **all (pooled)** | ${edges} | ${pct(pooled((r, i) => mean(r.learned.map((run) => run[chosen[i]]))))} | | ${pct(pooled((r) => mean(r.learned.map((run) => run[0]))))} | ${pct(pooled((r) => r.free.default))} | ${pct(pooled((r) => r.free.mother))} | | |`);
  lines.push('', 'Every β over every group (pooled held-out accuracy, %, mean over runs):', '', `| β | ${TREE_GATES.join(' | ')} |`, `|---|${TREE_GATES.map(() => '---:').join('|')}|`);
  lines.push(`| all groups | ${TREE_GATES.map((_, g) => pct(pooled((r) => mean(r.learned.map((run) => run[g]))))).join(' | ')} |`);
  lines.push('', `β best over all groups (what the shipped detector records): ${TREE_GATES[bestGate(rows)]}`);
  return `${lines.join('\n')}\n`;
}

/** --combine A.json,B.json: one report over the groups of several runs of this script (e.g. two processes split by --groups). */
function combine(files: string[]): void {
  const parts = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Results);
  const first = parts[0];
  for (const p of parts) {
    // Files written before the grid was recorded used today's grid.
    if ((p.gates ?? TREE_GATES).join() !== TREE_GATES.join()) throw new InvalidArgumentError('E_INVALID_ARG', `--combine: ${files[parts.indexOf(p)]} was decoded at β ${p.gates!.join(', ')}, this script tries ${TREE_GATES.join(', ')}`);
    if (p.runs !== first.runs || p.seeds.join() !== first.seeds.join() || p.families !== first.families || p.epochs !== first.epochs || p.patience !== first.patience) {
      throw new InvalidArgumentError('E_INVALID_ARG', `--combine: ${files[parts.indexOf(p)]} was run with other settings than ${files[0]}`);
    }
  }
  process.stdout.write(report({ ...first, rows: parts.flatMap((p) => p.rows) }));
}

if (process.argv.includes('--combine')) {
  try {
    combine(arg('combine', '').split(',').filter(Boolean));
  } catch (e) {
    process.stderr.write(`eval-learned-regimes failed: ${String((e as Error)?.message ?? e)}\n`);
    process.exitCode = 1;
  }
} else {
  main().catch((e) => {
    process.stderr.write(`eval-learned-regimes failed: ${String(e?.stack ?? e)}\n`);
    process.exitCode = 1;
  });
}
