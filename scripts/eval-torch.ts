/**
 * `npm run eval:torch`: the detection defaults on models trained by other code. Families of
 * small MLPs, BatchNorm CNNs and ViTs trained with PyTorch (scripts/torch_families.py: PyTorch's
 * own initialisation (the ViT: Hugging Face's), Fashion-MNIST, Adam / SGD with weight decay / AdamW with a cosine schedule /
 * tiny fine-tunes; a root, three children and a grandchild per family) are built once per seed
 * into the cache, scanned, and detected with the default and the settings it replaced; the
 * tables give directed-edge accuracy per architecture and regime, pooled over the seeds. The
 * MLP, CNN and ViT families were measured after the defaults of their time were chosen, and
 * have since been among the groups of `eval:regimes`' leave-one-out; the GRU, the ResNet and
 * RMSprop were built only to be scored, after every default was fixed.
 *
 *   npm run eval:torch [-- --seeds 0,1,2 --families 2 --archs mlp,cnn-bn,vit
 *       --regimes adam,sgd-wd,adamw-cosine,tiny --python /usr/bin/python3 --json FILE
 *       --detector DIR]   # the learned row's detector (default: the shipped one)
 *
 * The MLP and CNN families of a seed are one model set, every other architecture's families
 * another (each built and scanned on its own; they share no tensor names, so detection would
 * keep them apart anyway). `--archs gru,resnet --regimes adam,sgd-wd,adamw-cosine,tiny,rmsprop`
 * builds the architectures and the regime that no design step saw (torch-families.ts).
 *
 * Needs numpy and torch for that python (Debian: python3-torch) and Fashion-MNIST (Debian:
 * dataset-fashion-mnist); says which is missing otherwise.
 */
import * as fs from 'fs';
import { detect } from '../lib/detect';
import type { DetectOptions } from '../lib/detect/options';
import type { DetectionResult } from '../lib/detect/types';
import { openModels } from '../lib/io/discover';
import { detectLearned } from '../lib/learned';
import { scanModelSet } from '../lib/scan/scan';
import { machineDescription } from '../bench/machine';
import { checkTorchRegimes, ensureTorchFamilies, TORCH_ARCHS, TORCH_REGIMES, torchArchSets, torchGroups } from './torch-families';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'families', 'archs', 'regimes', 'python', 'json', 'detector']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The earlier defaults' tree: refitted by shared drift alone, the score's votes as they
 * fall, one increment correlation (no forgetting refit), summed distances alone (no
 * tensor-majority moves). */
const OLD_TREE: DetectOptions = { treeModel: 'shared-drift', tinyStep: null, forgetting: 'ignore', tensorMajority: 'ignore' };

/** The settings compared (the learned detector is added separately). */
const SETTINGS: Record<string, DetectOptions> = {
  default: {},
  // The default before tensor-majority moves (lib/detect/tensor-majority.ts), and the one
  // before the forgetting refit (lib/detect/forgetting.ts).
  'tensor majorities ignored (the previous default)': { tensorMajority: 'ignore' },
  'forgetting ignored (the default before)': { forgetting: 'ignore', tensorMajority: 'ignore' },
  // The earlier defaults, each as it was (OLD_TREE for every one of them, spread in below):
  // shared-drift trees without tiny steps; before that, every fake-init vote counted; before
  // that, with BatchNorm running statistics among the weights.
  'shared-drift tree, no tiny steps (the default before it)': {},
  'every fake-init vote counted (the default before)': { fakeInitAbstain: null },
  'running statistics compared': { runningStats: 'compare', fakeInitAbstain: null },
  'running statistics compared, votes untempered (the default before that)': { runningStats: 'compare', evidenceTemper: 1, fakeInitAbstain: null },
  'family flips 0.2, no family noise, untempered, running statistics compared (the default before those)': { familyFlip: 0.2, familyNoise: null, evidenceTemper: 1, runningStats: 'compare', fakeInitAbstain: null },
  'family flips off, untempered, running statistics compared': { familyFlip: null, evidenceTemper: 1, runningStats: 'compare', fakeInitAbstain: null },
  'fake-init score, untempered, running statistics compared': { directionEvidence: 'score', familyFlip: null, evidenceTemper: 1, runningStats: 'compare', fakeInitAbstain: null },
  mother: { method: 'mother' },
  'mother, running statistics ignored': { method: 'mother', runningStats: 'ignore' },
  // Its families from the correlation gate alone: the gap rule for τ cuts at the largest jump
  // of the sorted distances, which in a set with tiny fine-tunes is the one between those and
  // every other fine-tune, and then splits the other families into single models.
  'mother, τ off (families from the correlation gate alone)': { method: 'mother', tau: 'none' },
};
/** The rows that keep today's tree; every other additive-tree row gets OLD_TREE, as it ran. */
const TODAYS_TREE = new Set(['default', 'tensor majorities ignored (the previous default)', 'forgetting ignored (the default before)']);
for (const [name, o] of Object.entries(SETTINGS)) if (!TODAYS_TREE.has(name) && o.method === undefined) SETTINGS[name] = { ...OLD_TREE, ...o };

interface Zoo {
  seed: number;
  ids: string[];
  truth: Map<string, string>;
  group: Map<string, string>;
  results: Map<string, DetectionResult>;
}

/** Directed-edge accuracy over the true edges of the given groups; and pairs found either way. */
function accuracy(zoos: Zoo[], setting: string, groups: Set<string>, eitherWay = false): { right: number; total: number } {
  let right = 0;
  let total = 0;
  for (const z of zoos) {
    const r = z.results.get(setting)!;
    const parentOf = new Map(r.edges.map((e) => [e.child, e.parent]));
    for (const [child, parent] of z.truth) {
      if (!groups.has(z.group.get(child)!)) continue;
      total++;
      if (parentOf.get(child) === parent || (eitherWay && parentOf.get(parent) === child)) right++;
    }
  }
  return { right, total };
}

async function main() {
  const seeds = arg('seeds', '0,1,2').split(',').map(Number);
  const families = Number(arg('families', '2'));
  const python = arg('python', '/usr/bin/python3');
  const archs = arg('archs', TORCH_ARCHS.join(',')).split(',');
  const sets = torchArchSets(archs);
  const regimes = checkTorchRegimes(arg('regimes', TORCH_REGIMES.join(',')).split(','));
  const detector = arg('detector', '');
  const LEARNED_ROW = detector ? `learned (${detector})` : 'learned (shipped detector)';
  const zoos: Zoo[] = [];
  for (const [seed, setArchs] of seeds.flatMap((s) => sets.map((a) => [s, a] as const))) {
    const out = ensureTorchFamilies(seed, families, python, setArchs, regimes);
    const set = await openModels([out]);
    const scan = await scanModelSet(set, { device: 'cpu' });
    const group = torchGroups(out);
    const truth = new Map(set.lineage!.edges.map((e) => [e.child, e.parent]));
    const results = new Map<string, DetectionResult>();
    for (const [name, o] of Object.entries(SETTINGS)) results.set(name, detect(scan, o));
    results.set(LEARNED_ROW, await detectLearned(scan, set, detector ? { detector } : {}));
    zoos.push({ seed, ids: scan.models.map((m) => m.id), truth, group, results });
    process.stderr.write(`seed ${seed} (${setArchs.join(', ')}): ${scan.models.length} models, ${truth.size} true edges\n`);
  }
  const groups = [...new Set(zoos.flatMap((z) => [...z.group.values()]))].sort();
  const all = new Set(groups);
  const pct = (a: { right: number; total: number }) => (a.total ? ((100 * a.right) / a.total).toFixed(1) : '–');
  const lines: string[] = [
    `PyTorch families (scripts/torch_families.py), seeds ${seeds.join(', ')}, architectures ${archs.join(', ')}, regimes ${regimes.join(', ')}, ${families} families per architecture and regime, 4 true edges each (${zoos.reduce((a, z) => a + z.truth.size, 0)} in all). Machine: ${machineDescription()}.`,
    '',
    'Directed-edge accuracy (%), pooled over the seeds:',
    '',
    `| setting | ${groups.join(' | ')} | all |`,
    `|---|${groups.map(() => '---:').join('|')}|---:|`,
  ];
  const settings = [...zoos[0].results.keys()];
  for (const s of settings) lines.push(`| ${s} | ${groups.map((g) => pct(accuracy(zoos, s, new Set([g])))).join(' | ')} | ${pct(accuracy(zoos, s, all))} |`);
  lines.push(`| default, pair found (either direction) | ${groups.map((g) => pct(accuracy(zoos, 'default', new Set([g]), true))).join(' | ')} | ${pct(accuracy(zoos, 'default', all, true))} |`, '');
  // Reversed true edges by the family direction confidence of the default.
  const bins = [0, 0.6, 0.8, 0.95, 1.0001];
  const n = bins.slice(1).map(() => ({ total: 0, right: 0, reversed: 0 }));
  const reversedEdges: string[] = [];
  for (const z of zoos) {
    const r = z.results.get('default')!;
    const conf = new Map<string, number>();
    r.families.forEach((f, i) => f.forEach((id) => conf.set(id, r.familyDirections?.[i]?.confidence ?? NaN)));
    const parentOf = new Map(r.edges.map((e) => [e.child, e.parent]));
    for (const [child, parent] of z.truth) {
      const c = conf.get(child);
      if (c === undefined || Number.isNaN(c)) continue;
      const b = bins.findIndex((lo, i) => i + 1 < bins.length && c >= lo && c < bins[i + 1]);
      n[b].total++;
      if (parentOf.get(child) === parent) n[b].right++;
      if (parentOf.get(parent) === child) {
        n[b].reversed++;
        reversedEdges.push(`| ${z.group.get(child)} | ${parent} → ${child} | ${c.toFixed(3)} |`);
      }
    }
  }
  lines.push('The default by family direction confidence:', '', '| family direction confidence | true edges | directed accuracy (%) | found reversed |', '|---|---:|---:|---:|');
  bins.slice(1).forEach((hi, i) => lines.push(`| [${bins[i]}, ${Math.min(1, hi)}${hi > 1 ? ']' : ')'} | ${n[i].total} | ${pct(n[i])} | ${n[i].reversed} |`));
  lines.push('', 'True edges the default found reversed, with their family\'s direction confidence:', '', '| group | true edge | family direction confidence |', '|---|---|---:|', ...reversedEdges);
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) {
    const per = Object.fromEntries(settings.map((s) => [s, Object.fromEntries(groups.map((g) => [g, accuracy(zoos, s, new Set([g]))]))]));
    fs.writeFileSync(json, JSON.stringify({ seeds, families, archs, regimes, per }, null, 2));
  }
}

main().catch((e) => {
  process.stderr.write(`eval:torch failed: ${String(e?.message ?? e)}\n`);
  process.exitCode = 1;
});
