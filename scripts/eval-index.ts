/**
 * `npm run eval:index`: detection over a fingerprint index (`detect --index`: statistics
 * estimated from fingerprints, duplicates stored once put back) against the exact scan, on the zoo presets and seeds of eval:paper. For each zoo: one exact
 * scan, one `index add` into a fresh index (default fingerprint config), then every
 * learning-free method on both; prints directed-edge accuracy (%) mean over seeds for each,
 * the difference in points, and what the fingerprints read.
 *
 *   npm run eval:index                                   # mnist-fc and mnist-cnn, seeds 0-4
 *   npm run eval:index -- --presets mnist-fc --seeds 0,1,2,3
 *   npm run eval:index -- --json runs.json
 *   npm run eval:index -- --dirs ~/.cache/neural-phylogeny/zoos/mnist-fc-small-seed0-1162ecae,...
 *
 * --whole-params N keeps models of at most N parameters whole (default 262,144: every zoo
 * preset's models, so their estimates are exact); --whole-params 0 samples them at the budget
 * as their probes are (1/8 of an mnist-fc model). --budget N sets the values a sampled model
 * keeps (default 8,192).
 *
 * --dirs evaluates zoos already on disk (each a folder with lineage.json; preset and seed read
 * from the folder name `<preset>-<scale>-seed<N>-<key>`) instead of building them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ALL_METHODS, evaluateMethods, evaluateResult, type MethodEval } from '../lib/eval/compare';
import { detectIndex } from '../lib/hub/detect-index';
import type { MethodName } from '../lib/detect/options';
import { addToIndex } from '../lib/hub/add';
import { DEFAULT_FINGERPRINT_CONFIG } from '../lib/hub/sample';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo } from '../lib/zoo';
import type { ZooPreset } from '../lib/zoo';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['presets', 'seeds', 'methods', 'json', 'dirs', 'budget', 'whole-params']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

interface Run {
  preset: string;
  seed: number;
  method: string;
  exact: number;
  estimated: number;
  bytesRead: number;
  modelBytes: number;
  /** True edges of the zoo (edge accuracy × edges = edges found). */
  edges: number;
}

async function main() {
  const presets = arg('presets', 'mnist-fc,mnist-cnn').split(',') as ZooPreset[];
  const seeds = arg('seeds', '0,1,2,3,4').split(',').map(Number);
  const methods = arg('methods', ALL_METHODS.join(',')).split(',');
  const runs: Run[] = [];
  const config = {
    ...DEFAULT_FINGERPRINT_CONFIG,
    budget: Number(arg('budget', String(DEFAULT_FINGERPRINT_CONFIG.budget))),
    wholeParams: Number(arg('whole-params', String(DEFAULT_FINGERPRINT_CONFIG.wholeParams))),
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-eval-index-'));
  const given = arg('dirs', '').split(',').filter(Boolean).map((d) => {
    const m = /^(.*)-[a-z]+-seed(\d+)-[0-9a-f]+$/.exec(path.basename(d));
    return { dir: d, preset: m ? m[1] : path.basename(d), seed: m ? Number(m[2]) : 0 };
  });
  const jobs = given.length ? given : presets.flatMap((preset) => seeds.map((seed) => ({ dir: '', preset, seed })));
  if (given.length) {
    presets.splice(0, presets.length, ...([...new Set(given.map((g) => g.preset))] as ZooPreset[]));
    seeds.splice(0, seeds.length, ...new Set(given.map((g) => g.seed)));
  }
  try {
    for (const { dir: zooDir, preset, seed } of jobs) {
      {
        const outDir = zooDir || (await ensureZoo({ preset: preset as ZooPreset, scale: 'small', seed, log: (l) => process.stderr.write(`${l}\n`) })).outDir;
        const set = await openModels([outDir]);
        if (!set.lineage) throw new Error(`${outDir}: no lineage.json`);
        const truth = set.lineage;
        const exactScan = await scanModelSet(set);
        const dir = path.join(tmp, `${preset}-${seed}`);
        const added = await addToIndex(dir, [outDir], { config });
        const exact = evaluateMethods(exactScan, truth, methods);
        // What `detect --index` answers (duplicates stored once are put back as duplicates).
        const estimated: MethodEval[] = [];
        for (const method of methods) {
          const t0 = Date.now();
          const r = await detectIndex(dir, { method: method as MethodName, threads: 1 });
          estimated.push(evaluateResult(method, r, truth, Date.now() - t0));
        }
        for (const e of exact) {
          const m = estimated.find((x) => x.method === e.method)!;
          runs.push({ preset, seed, method: e.method, exact: e.metrics.edgeAccuracy, estimated: m.metrics.edgeAccuracy, bytesRead: added.bytesRead, modelBytes: added.modelBytes, edges: truth.edges.length });
        }
        process.stderr.write(`${preset} seed ${seed}: ${set.models.length} models; fingerprints read ${(100 * added.bytesRead / added.modelBytes).toFixed(1)}% of the bytes\n`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const pct = (x: number) => (100 * x).toFixed(1);
  const lines = [
    `Directed-edge accuracy (%), exact scan vs fingerprint index (models of at most ${config.wholeParams} parameters kept whole, larger ones sampled at a budget of ${config.budget} values), mean over zoo seeds ${seeds.join(', ')} (small scale)`,
    `Machine: ${machineDescription()}`,
    '',
    `| method | ${presets.map((p) => `${p} exact | ${p} index | Δ points`).join(' | ')} |`,
    `|---|${presets.map(() => '---|---|---').join('|')}|`,
    ...methods.map((m) => `| ${m} | ${presets.map((p) => {
      const rs = runs.filter((r) => r.preset === p && r.method === m);
      const ex = mean(rs.map((r) => r.exact));
      const es = mean(rs.map((r) => r.estimated));
      return `${pct(ex)} | ${pct(es)} | ${(100 * (es - ex)).toFixed(1)}`;
    }).join(' | ')} |`),
    '',
    ...presets.map((p) => {
      const rs = runs.filter((r) => r.preset === p && r.method === methods[0]);
      return `${p}: fingerprints read ${pct(mean(rs.map((r) => r.bytesRead / r.modelBytes)))}% of the model bytes`;
    }),
    '',
    // The target is per seed, where one edge can be several points: list every difference.
    'Per seed, where the index and the exact scan differ (true edges found):',
    ...runs.filter((r) => Math.abs(r.exact - r.estimated) > 1e-12).map((r) =>
      `  ${r.preset} seed ${r.seed} ${r.method}: exact ${Math.round(r.exact * r.edges)}, index ${Math.round(r.estimated * r.edges)} of ${r.edges} (${(100 * (r.estimated - r.exact)).toFixed(1)} points)`),
    `  (${runs.filter((r) => Math.abs(r.exact - r.estimated) > 1e-12).length} of ${runs.length} preset–seed–method runs differ; the others are identical)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify(runs, null, 2));
}

main().catch((e) => {
  process.stderr.write(`eval:index failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
