/**
 * `npm run eval:alone`: direction confidence when a family is scanned alone, as a user with one
 * folder of related checkpoints scans it, against the same family among many. The additive
 * tree estimates its signals' error rates from the votes of the families it roots; alone, a
 * family's rates are its own agreement with its root, and its confidence vouches for itself.
 * For each trained zoo (the regimes zoos of every network, the small preset zoos, the same
 * caches as eval:regimes), every true family is detected in the whole zoo's scan and in a scan
 * of its models alone, with the signal error rates of the confidences held out
 * (`confidenceRates: 'held-out'`, the default) and taken from the whole scan ('scan'). Prints
 * directed-edge accuracy (the same under both: only confidences differ) and, per setting,
 * accuracy by family direction-confidence bin with the reversed edges at ≥ 0.95.
 *
 *   npm run eval:alone [-- --seeds 0,1,2,3,4 --net-seeds 0,1,2]
 *       # regimes zoos (MLP, 2 families per regime) and mnist-fc, mnist-cnn, tiny-llama,
 *       # tiny-unet of --seeds; the BatchNorm CNN, ViT and LLaMA regimes zoos of --net-seeds
 */
import * as path from 'path';
import { detect } from '../lib/detect';
import type { ConfidenceRates } from '../lib/detect/options';
import type { DetectionResult } from '../lib/detect/types';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo, type ZooOptions } from '../lib/zoo';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'net-seeds']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SETTINGS: ConfidenceRates[] = ['held-out', 'scan'];
const BINS: [number, number][] = [[0, 0.6], [0.6, 0.8], [0.8, 0.95], [0.95, 1]];

interface Tally {
  edges: number;
  right: number;
  /** Per setting and bin: true edges, directed right, found reversed. */
  bins: Map<ConfidenceRates, { n: number; right: number; reversed: number }[]>;
  /** Per setting: "group seed confidence" of each edge reversed at ≥ 0.95. */
  sure: Map<ConfidenceRates, string[]>;
}

const tally = (): Tally => ({
  edges: 0,
  right: 0,
  bins: new Map(SETTINGS.map((s) => [s, BINS.map(() => ({ n: 0, right: 0, reversed: 0 }))])),
  sure: new Map(SETTINGS.map((s) => [s, []])),
});

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
  return [...out, ''];
}

async function main(): Promise<void> {
  const seeds = arg('seeds', '0,1,2,3,4').split(',').map(Number);
  const netSeeds = arg('net-seeds', '0,1,2').split(',').map(Number);
  const specs: { opts: Omit<ZooOptions, 'outDir'>; group: (regime: unknown) => string }[] = [];
  for (const seed of seeds) {
    specs.push({ opts: { preset: 'regimes', seed, families: 2 }, group: (r) => String(r) });
    for (const preset of ['mnist-fc', 'mnist-cnn', 'tiny-llama', 'tiny-unet'] as const) specs.push({ opts: { preset, seed }, group: () => preset });
  }
  for (const net of ['cnn-bn', 'vit', 'llama'] as const) for (const seed of netSeeds) specs.push({ opts: { preset: 'regimes', seed, families: 1, regimeNet: net }, group: (r) => `${net}/${String(r)}` });
  const among = tally();
  const alone = tally();
  const t0 = Date.now();
  for (const { opts, group } of specs) {
    const zoo = await ensureZoo({ ...opts, log: (l) => process.stderr.write(`${l}\n`) });
    const byId = new Map(zoo.models.map((m) => [m.id, m]));
    const parentOf = new Map(zoo.models.map((m) => [m.id, m.parent]));
    const whole = await scanModelSet(await openModels([zoo.outDir]), { device: 'cpu' });
    for (const [k, s] of SETTINGS.entries()) {
      const r = detect(whole, { confidenceRates: s });
      for (const family of zoo.lineage.families) score(among, r, s, family, parentOf, `${group(byId.get(family[0])!.hyperparameters.regime)} seed ${opts.seed}`, k === 0);
    }
    for (const family of zoo.lineage.families) {
      const set = await openModels(family.map((id) => path.join(zoo.outDir, byId.get(id)!.path)));
      const scan = await scanModelSet(set, { device: 'cpu' });
      const label = `${group(byId.get(family[0])!.hyperparameters.regime)} seed ${opts.seed}`;
      for (const [k, s] of SETTINGS.entries()) score(alone, detect(scan, { confidenceRates: s }), s, family, parentOf, label, k === 0);
    }
    process.stderr.write(`${zoo.outDir}: ${zoo.lineage.families.length} families\n`);
  }
  const lines = [
    `Direction confidence with each family alone in its scan and among the others; zoos: regimes (MLP) and mnist-fc, mnist-cnn, tiny-llama, tiny-unet of seeds ${seeds.join(', ')}; regimes of the BatchNorm CNN, ViT and LLaMA of seeds ${netSeeds.join(', ')}. ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    `Machine: ${machineDescription()}.`,
    '',
    ...table('Each zoo scanned whole (its families together)', among),
    ...table('Each family scanned alone', alone),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`eval:alone failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
