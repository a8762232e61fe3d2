/**
 * `npm run eval:alone`: direction confidence when a family is scanned alone, as a user with one
 * folder of related checkpoints scans it, against the same family among many. The additive
 * tree estimates its signals' error rates from the votes of the families it roots; alone, a
 * family's rates are its own agreement with its root, and its confidence vouches for itself.
 * For each trained zoo (the regimes zoos of every network, the small preset zoos, the same
 * caches as eval:regimes), every true family is detected in the whole zoo's scan and in a scan
 * of its models alone, with the signal error rates of the confidences held out
 * (`confidenceRates: 'held-out'`) and taken from the whole scan ('scan', the default). Prints
 * directed-edge accuracy (the same under both: only confidences differ) and, per setting,
 * accuracy by family direction-confidence bin with the reversed edges at ≥ 0.95, and proper
 * scores of the confidences (Brier and log loss), which weigh the whole range, not only the
 * top bin.
 *
 *   npm run eval:alone [-- --seeds 0,1,2,3,4 --net-seeds 0,1,2 --torch-seeds 0,1
 *       --unseen-seeds 0,1,2 --python /usr/bin/python3]
 *       # regimes zoos (MLP, 2 families per regime) and mnist-fc, mnist-cnn, tiny-llama,
 *       # tiny-unet of --seeds; the BatchNorm CNN, ViT and LLaMA regimes zoos of --net-seeds;
 *       # the PyTorch MLP/CNN/ViT families of --torch-seeds and the GRU/ResNet families with
 *       # RMSprop of --unseen-seeds (scripts/torch_families.py; none by default)
 */
import * as path from 'path';
import { detect } from '../lib/detect';
import type { ConfidenceRates } from '../lib/detect/options';
import type { DetectionResult } from '../lib/detect/types';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo, type ZooOptions } from '../lib/zoo';
import { CLASSIC_ARCHS, ensureTorchFamilies, torchGroups, TORCH_REGIMES, UNSEEN_ARCHS, UNSEEN_REGIMES } from './torch-families';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'net-seeds', 'torch-seeds', 'unseen-seeds', 'python']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SETTINGS: ConfidenceRates[] = ['scan', 'held-out'];
const BINS: [number, number][] = [[0, 0.6], [0.6, 0.8], [0.8, 0.95], [0.95, 1]];

interface Tally {
  edges: number;
  right: number;
  /** Per setting and bin: true edges, directed right, found reversed. */
  bins: Map<ConfidenceRates, { n: number; right: number; reversed: number }[]>;
  /** Per setting: "group seed confidence" of each edge reversed at ≥ 0.95. */
  sure: Map<ConfidenceRates, string[]>;
  /** Per setting, proper scores over the true pairs found either way: Σ (q − right)² and
   * Σ −log(q or 1 − q) of each edge's direction confidence q, and the pairs counted; and
   * Σ (c − all right)² of each family's confidence c against its edges all directed right. */
  scores: Map<ConfidenceRates, { brier: number; logLoss: number; pairs: number; familyBrier: number; families: number }>;
}

const tally = (): Tally => ({
  edges: 0,
  right: 0,
  bins: new Map(SETTINGS.map((s) => [s, BINS.map(() => ({ n: 0, right: 0, reversed: 0 }))])),
  sure: new Map(SETTINGS.map((s) => [s, []])),
  scores: new Map(SETTINGS.map((s) => [s, { brier: 0, logLoss: 0, pairs: 0, familyBrier: 0, families: 0 }])),
});

/** Proper scores of the direction confidences of one family's true pairs (found either way). */
function scoreConfidences(t: Tally, r: DetectionResult, setting: ConfidenceRates, family: string[], parentOf: Map<string, string | null>): void {
  const sc = t.scores.get(setting)!;
  const byPair = new Map(r.edges.map((e) => [`${e.parent}>${e.child}`, e]));
  let allRight = true;
  for (const id of family) {
    const p = parentOf.get(id);
    if (!p) continue;
    const e = byPair.get(`${p}>${id}`) ?? byPair.get(`${id}>${p}`);
    if (!e || e.parent !== p) allRight = false;
    if (!e) continue;
    const right = e.parent === p ? 1 : 0;
    // Clamped so that a sure wrong answer costs a finite log loss (−log 1e-6 ≈ 13.8).
    const q = Math.min(1 - 1e-6, Math.max(1e-6, e.confidenceParts?.direction ?? 0.5));
    sc.brier += (q - right) ** 2;
    sc.logLoss -= Math.log(right ? q : 1 - q);
    sc.pairs++;
  }
  const f = r.families.findIndex((ids) => ids.includes(family[0]));
  const c = f >= 0 ? r.familyDirections?.[f]?.confidence ?? null : null;
  if (c === null) return;
  sc.familyBrier += (c - (allRight ? 1 : 0)) ** 2;
  sc.families++;
}

/** Scores the true edges of `family` in `r` (detected with `setting`) into `t`. */
function score(t: Tally, r: DetectionResult, setting: ConfidenceRates, family: string[], parentOf: Map<string, string | null>, label: string, countEdges: boolean): void {
  const found = new Map(r.edges.map((e) => [e.child, e.parent]));
  for (const id of family) {
    const p = parentOf.get(id);
    if (!p) continue;
    const right = found.get(id) === p;
    const reversed = found.get(p) === id;
    if (countEdges) {
      t.edges++;
      t.right += right ? 1 : 0;
    }
    const f = r.families.findIndex((ids) => ids.includes(id));
    const c = f >= 0 ? r.familyDirections?.[f]?.confidence ?? null : null;
    if (c === null) continue;
    const b = BINS.findIndex(([lo, hi], k) => c >= lo && (c < hi || k === BINS.length - 1));
    const cell = t.bins.get(setting)![b];
    cell.n++;
    cell.right += right ? 1 : 0;
    cell.reversed += reversed ? 1 : 0;
    if (reversed && c >= 0.95) t.sure.get(setting)!.push(`${label} (${c.toFixed(3)})`);
  }
}

function table(title: string, t: Tally): string[] {
  const out = [`${title}: ${t.right} of ${t.edges} true edges directed right (${((100 * t.right) / t.edges).toFixed(1)}%)`, ''];
  out.push('| family direction confidence | ' + SETTINGS.map((s) => `${s}: edges | right (%) | reversed`).join(' | ') + ' |');
  out.push('|---|' + SETTINGS.map(() => '---:|---:|---:').join('|') + '|');
  BINS.forEach(([lo, hi], b) => {
    const cells = SETTINGS.map((s) => {
      const c = t.bins.get(s)![b];
      return `${c.n} | ${c.n ? ((100 * c.right) / c.n).toFixed(1) : '–'} | ${c.reversed}`;
    });
    out.push(`| [${lo}, ${hi}${hi === 1 ? ']' : ')'} | ${cells.join(' | ')} |`);
  });
  for (const s of SETTINGS) out.push('', `Reversed at ≥ 0.95 (${s}): ${t.sure.get(s)!.join('; ') || 'none'}.`);
  out.push('', 'Proper scores (lower is better; a constant ½ scores Brier 0.25, log loss 0.693):', '', '| rates | edge Brier | edge log loss | true pairs found | family Brier | families |', '|---|---:|---:|---:|---:|---:|');
  for (const s of SETTINGS) {
    const c = t.scores.get(s)!;
    out.push(`| ${s} | ${(c.brier / c.pairs).toFixed(4)} | ${(c.logLoss / c.pairs).toFixed(4)} | ${c.pairs} | ${(c.familyBrier / c.families).toFixed(4)} | ${c.families} |`);
  }
  return [...out, ''];
}

/** A directory of models with its true lineage, as one scan sees it. */
interface ModelDir {
  dir: string;
  seed: number;
  families: string[][];
  parentOf: Map<string, string | null>;
  pathOf: (id: string) => string;
  label: (family: string[]) => string;
}

/** Families of a lineage that lists only edges: its connected components. */
function componentsOf(ids: string[], edges: { parent: string; child: string }[]): string[][] {
  const up = new Map(ids.map((id) => [id, id]));
  const find = (x: string): string => (up.get(x) === x ? x : find(up.get(x)!));
  for (const e of edges) up.set(find(e.child), find(e.parent));
  const out = new Map<string, string[]>();
  for (const id of ids) out.set(find(id), [...(out.get(find(id)) ?? []), id]);
  return [...out.values()].filter((f) => f.length > 1);
}

async function zooSet(opts: Omit<ZooOptions, 'outDir'>, group: (regime: unknown) => string): Promise<ModelDir> {
  const zoo = await ensureZoo({ ...opts, log: (l) => process.stderr.write(`${l}\n`) });
  const byId = new Map(zoo.models.map((m) => [m.id, m]));
  return {
    dir: zoo.outDir,
    seed: opts.seed ?? 0,
    families: zoo.lineage.families,
    parentOf: new Map(zoo.models.map((m) => [m.id, m.parent])),
    pathOf: (id) => path.join(zoo.outDir, byId.get(id)!.path),
    label: (f) => group(byId.get(f[0])!.hyperparameters.regime),
  };
}

async function torchSet(seed: number, python: string, archs: string[], regimes: string[]): Promise<ModelDir> {
  const dir = ensureTorchFamilies(seed, 2, python, archs, regimes);
  const set = await openModels([dir]);
  const ids = set.models.map((m) => m.id);
  const groups = torchGroups(dir);
  return {
    dir,
    seed,
    families: componentsOf(ids, set.lineage!.edges),
    parentOf: new Map(ids.map((id) => [id, set.lineage!.edges.find((e) => e.child === id)?.parent ?? null])),
    pathOf: (id) => path.join(dir, `${id}.safetensors`),
    label: (f) => `torch ${groups.get(f[0])}`,
  };
}

async function main(): Promise<void> {
  const list = (name: string, fallback: string) => arg(name, fallback).split(',').filter(Boolean).map(Number);
  const seeds = list('seeds', '0,1,2,3,4');
  const netSeeds = list('net-seeds', '0,1,2');
  const torchSeeds = list('torch-seeds', '');
  const unseenSeeds = list('unseen-seeds', '');
  const python = arg('python', '/usr/bin/python3');
  const sets: (() => Promise<ModelDir>)[] = [];
  for (const seed of seeds) {
    sets.push(() => zooSet({ preset: 'regimes', seed, families: 2 }, (r) => String(r)));
    for (const preset of ['mnist-fc', 'mnist-cnn', 'tiny-llama', 'tiny-unet'] as const) sets.push(() => zooSet({ preset, seed }, () => preset));
  }
  for (const net of ['cnn-bn', 'vit', 'llama'] as const) for (const seed of netSeeds) sets.push(() => zooSet({ preset: 'regimes', seed, families: 1, regimeNet: net }, (r) => `${net}/${String(r)}`));
  for (const seed of torchSeeds) {
    sets.push(() => torchSet(seed, python, CLASSIC_ARCHS, TORCH_REGIMES));
    sets.push(() => torchSet(seed, python, ['vit'], TORCH_REGIMES));
  }
  for (const seed of unseenSeeds) for (const a of UNSEEN_ARCHS) sets.push(() => torchSet(seed, python, [a], [...TORCH_REGIMES, ...UNSEEN_REGIMES]));
  const among = tally();
  const alone = tally();
  const t0 = Date.now();
  for (const make of sets) {
    const z = await make();
    const whole = await scanModelSet(await openModels([z.dir]), { device: 'cpu' });
    for (const [k, s] of SETTINGS.entries()) {
      const r = detect(whole, { confidenceRates: s });
      for (const family of z.families) {
        score(among, r, s, family, z.parentOf, `${z.label(family)} seed ${z.seed}`, k === 0);
        scoreConfidences(among, r, s, family, z.parentOf);
      }
    }
    for (const family of z.families) {
      const scan = await scanModelSet(await openModels(family.map(z.pathOf)), { device: 'cpu' });
      for (const [k, s] of SETTINGS.entries()) {
        const r = detect(scan, { confidenceRates: s });
        score(alone, r, s, family, z.parentOf, `${z.label(family)} seed ${z.seed}`, k === 0);
        scoreConfidences(alone, r, s, family, z.parentOf);
      }
    }
    process.stderr.write(`${z.dir}: ${z.families.length} families\n`);
  }
  const torch = [torchSeeds.length ? `PyTorch MLP/CNN/ViT families of seeds ${torchSeeds.join(', ')}` : '', unseenSeeds.length ? `PyTorch GRU/ResNet families (with RMSprop) of seeds ${unseenSeeds.join(', ')}` : ''].filter(Boolean);
  const lines = [
    `Direction confidence with each family alone in its scan and among the others; zoos: regimes (MLP) and mnist-fc, mnist-cnn, tiny-llama, tiny-unet of seeds ${seeds.join(', ')}; regimes of the BatchNorm CNN, ViT and LLaMA of seeds ${netSeeds.join(', ')}${torch.length ? `; ${torch.join('; ')}` : ''}. ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    `Machine: ${machineDescription()}.`,
    '',
    ...table('Each model set scanned whole (its families together)', among),
    ...table('Each family scanned alone', alone),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`eval:alone failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
