/**
 * `npm run eval:paper`: the paper-style table. For each zoo preset and each of 5 zoo seeds,
 * builds (or reuses the cached) zoo, scans it once, runs every learning-free method and the
 * rebuilt MoTHer baseline, and prints directed-edge accuracy as mean ± std over the seeds
 * (Markdown, for the README), plus the per-seed numbers as JSON with --json FILE.
 *
 *   npm run eval:paper                                  # mnist-fc and mnist-cnn, seeds 0-4
 *   npm run eval:paper -- --presets mnist-fc --seeds 0,1,2
 *   npm run eval:paper -- --presets tiny-llama --exclude '*embed_tokens*,lm_head*'
 */
import * as fs from 'fs';
import { ALL_METHODS, evaluateMethods } from '../lib/eval/compare';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo } from '../lib/zoo';
import type { ZooPreset } from '../lib/zoo';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['presets', 'seeds', 'methods', 'exclude', 'json']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};
const fmt = (xs: number[]) => `${(100 * mean(xs)).toFixed(1)} ± ${(100 * std(xs)).toFixed(1)}`;

export interface PaperRun {
  preset: string;
  seed: number;
  models: number;
  edges: number;
  method: string;
  edgeAccuracy: number;
  directionAccuracy: number | null;
  ari: number;
}

async function main() {
  const presets = arg('presets', 'mnist-fc,mnist-cnn').split(',') as ZooPreset[];
  const seeds = arg('seeds', '0,1,2,3,4').split(',').map(Number);
  const methods = arg('methods', ALL_METHODS.join(',')).split(',');
  const exclude = arg('exclude', '').split(',').filter(Boolean);
  const runs: PaperRun[] = [];
  for (const preset of presets) {
    for (const seed of seeds) {
      const t0 = Date.now();
      const zoo = await ensureZoo({ preset, scale: 'small', seed, log: (l) => process.stderr.write(`${l}\n`) });
      const set = await openModels([zoo.outDir]);
      const scan = await scanModelSet(set, { exclude });
      const truth = set.lineage ?? zoo.lineage;
      for (const r of evaluateMethods(scan, truth, methods)) {
        runs.push({
          preset, seed, models: scan.models.length, edges: truth.edges.length, method: r.method,
          edgeAccuracy: r.metrics.edgeAccuracy, directionAccuracy: r.metrics.directionAccuracy, ari: r.metrics.ari,
        });
      }
      process.stderr.write(`${preset} seed ${seed}: ${scan.models.length} models, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }
  }
  const lines = [
    `Directed-edge accuracy (%), mean ± std over zoo seeds ${seeds.join(', ')} (small scale; ${presets.map((p) => {
      const r = runs.find((x) => x.preset === p);
      return `${p}: ${r?.models} models, ${r?.edges} true edges per zoo`;
    }).join('; ')})`,
    `Machine: ${machineDescription()}${exclude.length ? `; tensors excluded: ${exclude.join(', ')}` : ''}`,
    '',
    `| method | ${presets.join(' | ')} |`,
    `|---|${presets.map(() => '---').join('|')}|`,
    ...methods.map((m) => `| ${m} | ${presets.map((p) => fmt(runs.filter((r) => r.preset === p && r.method === m).map((r) => r.edgeAccuracy))).join(' | ')} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify(runs, null, 2));
}

main().catch((e) => {
  process.stderr.write(`eval:paper failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
