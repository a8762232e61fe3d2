/**
 * The study behind the learning-free default (docs/detect.md): every method and the
 * additive-tree ablations on trained zoos and on synthetic families, directed-edge accuracy
 * as mean ± std over seeds, one column per zoo set.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/study-detect.js
 *   node dist/scripts/study-detect.js --zoos mnist-fc:2,3,4 --build   # build missing zoos
 *   node dist/scripts/study-detect.js --zoos none --synthetic          # synthetic only
 *
 * Zoos come from the zoo cache (lib/zoo); without --build a missing zoo is skipped and said
 * so, so that the study never races a zoo build running elsewhere. Scans are cached next to
 * the zoos (<cache>/study-scans/<zoo dir>.json) because the weights never change.
 */
import * as fs from 'fs';
import * as path from 'path';
import { detect } from '../lib/detect/detect';
import type { DetectOptions } from '../lib/detect/options';
import { evaluate } from '../lib/eval/metrics';
import { confidenceAuc } from '../lib/eval/auc';
import type { Lineage } from '../lib/io/types';
import type { ScanResult } from '../lib/scan/types';
import { simulateZoo } from '../test/helpers/synthetic-scan';
import { SYNTHETIC } from './synthetic-sets';
import { handleUsage } from './usage';

handleUsage(__filename, ['zoos', 'build', 'synthetic', 'synthetic-seeds', 'json']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** The variants compared: every method at its defaults, then additive-tree ablations. */
export const VARIANTS: { name: string; opts: DetectOptions }[] = [
  { name: 'additive-tree', opts: { method: 'additive-tree' } },
  { name: 'additive-tree, votes untempered (the previous default)', opts: { method: 'additive-tree', evidenceTemper: 1 } },
  { name: 'additive-tree, family flips off', opts: { method: 'additive-tree', familyFlip: null } },
  { name: 'additive-tree, family noise off', opts: { method: 'additive-tree', familyNoise: null } },
  { name: 'additive-tree, family flips 0.2, noise off (the previous default)', opts: { method: 'additive-tree', familyFlip: 0.2, familyNoise: null } },
  { name: 'additive-tree, additive fit only', opts: { method: 'additive-tree', treeModel: 'additive' } },
  { name: 'additive-tree, score evidence', opts: { method: 'additive-tree', directionEvidence: 'score' } },
  { name: 'additive-tree, uniform prior', opts: { method: 'additive-tree', rootPrior: 'uniform' } },
  { name: 'additive-tree, uniform prior, score evidence', opts: { method: 'additive-tree', rootPrior: 'uniform', directionEvidence: 'score' } },
  { name: 'additive-tree, relative distances', opts: { method: 'additive-tree', distanceNormalize: 'relative', distanceCombine: 'mean' } },
  { name: 'arborescence', opts: { method: 'arborescence' } },
  { name: 'spanning-forest', opts: { method: 'spanning-forest' } },
  { name: 'kmeans-after', opts: { method: 'kmeans-after' } },
  { name: 'kmeans-along', opts: { method: 'kmeans-along' } },
  { name: 'agglomerative', opts: { method: 'agglomerative' } },
  { name: 'spectral', opts: { method: 'spectral' } },
  { name: 'dbscan', opts: { method: 'dbscan' } },
  { name: 'mother', opts: { method: 'mother' } },
];

interface Run {
  set: string;
  seed: number;
  variant: string;
  edgeAccuracy: number;
  directionAccuracy: number | null;
  ari: number;
  /** AUC of the edge confidences, right against wrong edges (null: all right or all wrong). */
  auc: number | null;
}

interface ZooSet {
  name: string;
  preset: 'mnist-fc' | 'mnist-cnn' | 'tiny-llama';
  seeds: number[];
}

function parseZoos(spec: string): ZooSet[] {
  if (spec === 'none') return [];
  return spec.split(';').map((part) => {
    const [preset, seeds] = part.split(':');
    return { name: preset, preset: preset as ZooSet['preset'], seeds: (seeds ?? '0').split(',').map(Number) };
  });
}

/** The cached scan of a zoo directory, scanning it (and caching) when absent. */
async function scanOf(dir: string, preset: string): Promise<{ scan: ScanResult; truth: Lineage }> {
  const { zooCacheRoot } = await import('../lib/zoo');
  const cacheDir = path.join(path.dirname(zooCacheRoot()), 'study-scans');
  const file = path.join(cacheDir, `${path.basename(dir)}.json`);
  const truth = JSON.parse(fs.readFileSync(path.join(dir, 'lineage.json'), 'utf8')) as Lineage;
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= fs.statSync(path.join(dir, 'lineage.json')).mtimeMs) {
    return { scan: JSON.parse(fs.readFileSync(file, 'utf8')) as ScanResult, truth };
  }
  const { openModels } = await import('../lib/io/discover');
  const { scanModelSet } = await import('../lib/scan/scan');
  const set = await openModels([dir]);
  // LLaMA-style models are initialised N(0, 0.02) (HF initializer_range), not PyTorch defaults.
  const scan = await scanModelSet(set, { fakeInit: preset === 'tiny-llama' ? 'hf' : 'auto' });
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(scan));
  return { scan, truth: set.lineage ?? truth };
}

async function zooDir(preset: ZooSet['preset'], seed: number, build: boolean): Promise<string | null> {
  const zoo = await import('../lib/zoo');
  const opts = { preset, scale: 'small' as const, seed };
  if (build) return (await zoo.ensureZoo({ ...opts, log: (l: string) => process.stderr.write(`${l}\n`) })).outDir;
  const root = zoo.zooCacheRoot();
  if (!fs.existsSync(root)) return null;
  for (const name of fs.readdirSync(root)) {
    if (!name.startsWith(`${preset}-small-seed${seed}-`)) continue;
    const dir = path.join(root, name);
    if (zoo.zooIsCurrent(dir, opts)) return dir;
  }
  return null;
}

function evaluateAll(set: string, seed: number, scan: ScanResult, truth: Lineage, runs: Run[]): void {
  for (const v of VARIANTS) {
    const r = detect(scan, v.opts);
    const m = evaluate(r, truth);
    runs.push({ set, seed, variant: v.name, edgeAccuracy: m.edgeAccuracy, directionAccuracy: m.directionAccuracy, ari: m.ari, auc: confidenceAuc(r, truth) });
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const fmt = (xs: number[]) => (xs.length === 0 ? '-' : `${(100 * mean(xs)).toFixed(1)} ± ${(100 * std(xs)).toFixed(1)}`);

export function table(runs: Run[], value: (r: Run) => number | null = (r) => r.edgeAccuracy): string {
  const sets = [...new Set(runs.map((r) => r.set))];
  const seedsOf = (s: string) => [...new Set(runs.filter((r) => r.set === s).map((r) => r.seed))];
  const cell = (s: string, v: string) =>
    fmt(runs.filter((r) => r.set === s && r.variant === v).map(value).filter((x): x is number => x !== null));
  return [
    `| variant | ${sets.map((s) => `${s} (seeds ${seedsOf(s).join(',')})`).join(' | ')} |`,
    `|---|${sets.map(() => '---').join('|')}|`,
    ...VARIANTS.map((v) => `| ${v.name} | ${sets.map((s) => cell(s, v.name)).join(' | ')} |`),
  ].join('\n');
}

async function main() {
  const runs: Run[] = [];
  const build = flag('build');
  for (const z of parseZoos(arg('zoos', 'mnist-fc:0,1'))) {
    for (const seed of z.seeds) {
      const dir = await zooDir(z.preset, seed, build);
      if (!dir) {
        process.stderr.write(`${z.preset} seed ${seed}: not in the zoo cache (run with --build to build it); skipped\n`);
        continue;
      }
      const { scan, truth } = await scanOf(dir, z.preset);
      evaluateAll(z.name, seed, scan, truth, runs);
      process.stderr.write(`${z.preset} seed ${seed}: ${scan.models.length} models, ${truth.edges.length} true edges\n`);
    }
  }
  if (flag('synthetic')) {
    const seeds = arg('synthetic-seeds', '1,2,3,4,5').split(',').map(Number);
    for (const s of SYNTHETIC) {
      for (const seed of seeds) {
        const zoo = simulateZoo({ ...s.spec, seed });
        evaluateAll(s.name, seed, zoo.scan, zoo.lineage, runs);
      }
    }
  }
  process.stdout.write(`Directed-edge accuracy (%), mean ± std over seeds\n\n${table(runs)}\n\n`);
  process.stdout.write(`AUC of edge confidence, right against wrong edges (×100; seeds with both)\n\n${table(runs, (r) => r.auc)}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify(runs, null, 2));
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`study-detect failed: ${String(e?.stack ?? e)}\n`);
    process.exitCode = 1;
  });
}
