/**
 * `npm run bench:tree`: the cost of refitting one rooted family tree by shared drift alone
 * (shared-drift.ts, priced moves) and with the increment-correlation moves after it
 * (drift-correlations.ts, exact moves: the default tree model), on seeded random families of
 * n models whose points are sums of random increments (every third 5× longer), started from
 * the star around the true root. Times are medians of repeated runs in one process, quoted
 * as the ratio to shared drift alone; "edges right" counts recovered parents (of n − 1).
 * A second table: the additive fit (additive-fit.ts) of families whose tensors some models
 * hold unchanged (unchanged-tensors.ts: 8 tensors, each trained by half the fine-tunes and
 * frozen by the rest), with and without the tensor changes, as the ratio to the fit without.
 * A third: whole detections (additive-tree) of simulated families with correlated sibling
 * drifts and spread step sizes (test/helpers/synthetic-scan.ts, as eval:regimes' "synthetic
 * correlated, spread"), with near-twin readings weighed (near-twins.ts: 'doubt', the default,
 * and 'weigh') against none ('ignore'). A fourth: whole detections with the forgetting refit
 * (forgetting.ts, the default) against none, on simulated families whose fine-tunes start from
 * a shrunk copy of their parent and on the correlated ones. A fifth: whole detections with
 * tensor-majority moves (tensor-majority.ts, the default) against none, on the correlated
 * families with the small MLP's 4 tensors and with 48 tensors of a layered model.
 *
 *   npm run bench:tree [-- --sizes 5,10,20,40] [-- --fit-sizes 10,40,100,200] [-- --dim 200]
 */
import { refitSharedDrift } from '../lib/detect/shared-drift';
import { refitDriftCorrelations } from '../lib/detect/drift-correlations';
import { fitAdditiveTree } from '../lib/detect/additive-fit';
import { changesOfEdges } from '../lib/detect/unchanged-tensors';
import { createRng } from '../lib/graph/rng';
import { detect } from '../lib/detect';
import { simulateZoo, type ZooSpec } from '../test/helpers/synthetic-scan';
import type { DetectOptions } from '../lib/detect/options';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['sizes', 'fit-sizes', 'dim']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function family(n: number, dim: number, seed: number): { parent: Int32Array; d2: Float64Array } {
  const rng = createRng(seed);
  const parent = new Int32Array(n).fill(-1);
  const x = [Float64Array.from({ length: dim }, () => rng.next())];
  for (let v = 1; v < n; v++) {
    parent[v] = rng.int(v);
    const scale = v % 3 === 0 ? 0.5 : 0.1;
    x.push(Float64Array.from(x[parent[v]], (a) => a + scale * (rng.next() - 0.5)));
  }
  const d2 = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) d2[a * n + b] = x[a].reduce((s, v, k) => s + (v - x[b][k]) ** 2, 0);
  return { parent, d2 };
}

/** Per pair, how many of `tensors` tensors differ, each trained by a random half of the fine-tunes. */
function tensorChangeCounts(parent: Int32Array, tensors: number, seed: number): Float64Array {
  const n = parent.length;
  const rng = createRng(seed + 1000);
  const out = new Float64Array(n * n);
  for (let t = 0; t < tensors; t++) {
    const label = new Int32Array(n);
    for (let v = 1; v < n; v++) label[v] = rng.next() < 0.5 ? label[parent[v]] : v;
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (label[a] !== label[b]) out[a * n + b]++;
  }
  return out;
}

/** Undirected edges of a parent array that appear in `edges`. */
function edgesRight(parent: Int32Array, edges: { a: number; b: number }[]): number {
  return edges.filter((e) => parent[e.a] === e.b || parent[e.b] === e.a).length;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(f: () => void): number {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const sizes = arg('sizes', '5,10,20,40').split(',').map(Number);
const dim = Number(arg('dim', '200'));
console.log(`Tree refit cost, random families (${dim} dimensions, seeds 1-5 per size). Machine: ${machineDescription()}.\n`);
console.log('| models | shared drift (ms, median) | with increment correlations (ms, median) | ratio | edges right: shared drift | edges right: with correlations |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const n of sizes) {
  const a: number[] = [];
  const b: number[] = [];
  let rightA = 0;
  let rightB = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const { parent, d2 } = family(n, dim, seed);
    const star = Int32Array.from(parent, (_, v) => (v === 0 ? -1 : 0));
    let fa = refitSharedDrift(d2, n, star);
    let fb = refitDriftCorrelations(d2, n, star);
    const reps = n <= 10 ? 5 : n <= 20 ? 3 : 1;
    for (let r = 0; r < reps; r++) {
      a.push(time(() => (fa = refitSharedDrift(d2, n, star))));
      b.push(time(() => (fb = refitDriftCorrelations(d2, n, star))));
    }
    rightA += fa.parent.reduce((s, p, v) => s + (v > 0 && p === parent[v] ? 1 : 0), 0);
    rightB += fb.parent.reduce((s, p, v) => s + (v > 0 && p === parent[v] ? 1 : 0), 0);
  }
  const ma = median(a);
  const mb = median(b);
  console.log(`| ${n} | ${ma.toFixed(2)} | ${mb.toFixed(2)} | ${(mb / ma).toFixed(1)}× | ${rightA}/${5 * (n - 1)} | ${rightB}/${5 * (n - 1)} |`);
}

const fitSizes = arg('fit-sizes', '10,40,100,200').split(',').map(Number);
console.log(`\nAdditive fit with unchanged tensors (8 tensors, each trained by half the fine-tunes; seeds 1-3 per size).\n`);
console.log('| models | fit (ms, median) | with tensor changes (ms, median) | ratio | edges right: fit | edges right: with changes | tree changes above the least: fit | with changes |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const n of fitSizes) {
  const a: number[] = [];
  const b: number[] = [];
  let rightA = 0;
  let rightB = 0;
  let excessA = 0;
  let excessB = 0;
  for (let seed = 1; seed <= 3; seed++) {
    const { parent, d2 } = family(n, dim, seed);
    const changes = tensorChangeCounts(parent, 8, seed);
    let fa = fitAdditiveTree(d2, n);
    let fb = fitAdditiveTree(d2, n, changes);
    const reps = n <= 40 ? 3 : 1;
    for (let r = 0; r < reps; r++) {
      a.push(time(() => (fa = fitAdditiveTree(d2, n))));
      b.push(time(() => (fb = fitAdditiveTree(d2, n, changes))));
    }
    const least = parent.reduce((s, p, v) => s + (p >= 0 ? changes[v * n + p] : 0), 0);
    rightA += edgesRight(parent, fa.edges);
    rightB += edgesRight(parent, fb.edges);
    excessA += changesOfEdges(changes, n, fa.edges) - least;
    excessB += changesOfEdges(changes, n, fb.edges) - least;
  }
  const ma = median(a);
  const mb = median(b);
  console.log(`| ${n} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(mb / ma).toFixed(2)}× | ${rightA}/${3 * (n - 1)} | ${rightB}/${3 * (n - 1)} | ${excessA} | ${excessB} |`);
}

// Third table: detection with and without near-twin readings.
console.log(`\nDetection with near-twin readings (simulated families with correlated drifts, ρ 0.15, step sizes spread 3×; 2 families per scan, seeds 1-3 per shape).\n`);
console.log("| models per family | 'ignore' (ms, median) | 'doubt' (ms, median) | ratio | 'weigh' (ms, median) | ratio | edges right: ignore / doubt / weigh | reversed at family confidence ≥ 0.95: ignore / doubt / weigh |");
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const branching of [[4, 1], [3, 3], [6, 3], [3, 3, 2]]) {
  const per: Record<string, number[]> = { ignore: [], doubt: [], weigh: [] };
  const right: Record<string, number> = { ignore: 0, doubt: 0, weigh: 0 };
  const reversedHigh: Record<string, number> = { ignore: 0, doubt: 0, weigh: 0 };
  let edges = 0;
  let models = 0;
  for (const seed of [1, 2, 3]) {
    const zoo = simulateZoo({ families: 2, depth: branching.length, branching, monotone: 'none', fineTuneScale: 0.3, decay: 1, siblingCorrelation: 0.15, scaleSpread: 3, seed });
    models = zoo.scan.models.length / 2;
    edges += zoo.lineage.edges.length;
    for (const nearTwins of ['ignore', 'doubt', 'weigh'] as const) {
      let r = detect(zoo.scan, { nearTwins });
      per[nearTwins].push(median([0, 1, 2].map(() => time(() => (r = detect(zoo.scan, { nearTwins }))))));
      const parentOf = new Map(r.edges.map((e) => [e.child, e.parent]));
      const conf = new Map<string, number>();
      r.families.forEach((f, i) => f.forEach((id) => conf.set(id, r.familyDirections?.[i]?.confidence ?? 0)));
      for (const e of zoo.lineage.edges) {
        if (parentOf.get(e.child) === e.parent) right[nearTwins]++;
        if (parentOf.get(e.parent) === e.child && (conf.get(e.child) ?? 0) >= 0.95) reversedHigh[nearTwins]++;
      }
    }
  }
  const m = (k: string) => median(per[k]);
  console.log(
    `| ${models} | ${m('ignore').toFixed(1)} | ${m('doubt').toFixed(1)} | ${(m('doubt') / m('ignore')).toFixed(2)}× | ${m('weigh').toFixed(1)} | ${(m('weigh') / m('ignore')).toFixed(2)}× | ${right.ignore} / ${right.doubt} / ${right.weigh} of ${edges} | ${reversedHigh.ignore} / ${reversedHigh.doubt} / ${reversedHigh.weigh} |`,
  );
}

/**
 * One row per branching shape: whole detections under `off` and `on` (options differing in one
 * setting) of seeds 1-3, 2 families per scan; the median time of three runs each, and the
 * parents found right.
 */
function detectionRows(label: string, spec: Partial<ZooSpec>, shapes: number[][], off: DetectOptions, on: DetectOptions): void {
  for (const branching of shapes) {
    const per = { off: [] as number[], on: [] as number[] };
    const right = { off: 0, on: 0 };
    let edges = 0;
    let models = 0;
    for (const seed of [1, 2, 3]) {
      const zoo = simulateZoo({ families: 2, depth: branching.length, branching: [...branching], monotone: 'none', decay: 1, ...spec, seed });
      models = zoo.scan.models.length / 2;
      edges += zoo.lineage.edges.length;
      for (const [k, o] of [['off', off], ['on', on]] as const) {
        let r = detect(zoo.scan, o);
        per[k].push(median([0, 1, 2].map(() => time(() => (r = detect(zoo.scan, o))))));
        const parentOf = new Map(r.edges.map((e) => [e.child, e.parent]));
        for (const e of zoo.lineage.edges) if (parentOf.get(e.child) === e.parent) right[k]++;
      }
    }
    const a = median(per.off);
    const b = median(per.on);
    console.log(`| ${label} | ${models} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}× | ${right.off} / ${right.on} of ${edges} |`);
  }
}

// Fourth table: detection with and without the forgetting refit (forgetting.ts), on families
// whose fine-tunes start from 0.7 × their parent (weight decay) and on the correlated ones
// above, which forget nothing.
console.log(`\nDetection with the forgetting refit (simulated families; 2 families per scan, seeds 1-3 per shape).\n`);
console.log("| families | models per family | 'ignore' (ms, median) | 'refit' (ms, median) | ratio | edges right: ignore / refit |");
console.log('|---|---:|---:|---:|---:|---:|');
// With shrink, families of three grandchildren per child come apart for both settings
// (docs/detect.md, "Where it fails"), so the shrunk shapes keep one or two per child.
detectionRows('shrink 0.3, steps 0.7', { fineTuneScale: 0.7, siblingCorrelation: 0.12, shrink: 0.3 }, [[4, 1], [3, 2], [8, 1], [12, 1]], { forgetting: 'ignore' }, { forgetting: 'refit' });
detectionRows('correlated, spread 3×', { fineTuneScale: 0.3, siblingCorrelation: 0.15, scaleSpread: 3 }, [[4, 1], [3, 3], [6, 3], [3, 3, 2]], { forgetting: 'ignore' }, { forgetting: 'refit' });

// Fifth table: detection with and without tensor-majority moves (tensor-majority.ts). With 4
// tensors no move can reach the test's level and the step ends after computing the per-tensor
// distances; with 48 every family is weighed.
const LAYERED: Record<string, number[]> = Object.fromEntries(
  Array.from({ length: 12 }, (_, l) => [
    [`layers.${l}.attn.weight`, [24, 24]],
    [`layers.${l}.mlp.weight`, [48, 24]],
    [`layers.${l}.mlp.bias`, [48]],
    [`layers.${l}.norm.weight`, [24]],
  ]).flat() as Array<[string, number[]]>,
);
console.log(`\nDetection with tensor-majority moves (simulated correlated families, spread 3×; 2 families per scan, seeds 1-3 per shape).\n`);
console.log("| tensors | models per family | 'ignore' (ms, median) | 'move' (ms, median) | ratio | edges right: ignore / move |");
console.log('|---:|---:|---:|---:|---:|---:|');
const correlated = { fineTuneScale: 0.3, siblingCorrelation: 0.15, scaleSpread: 3 };
for (const [label, shapes] of [['4 (MLP)', undefined], ['48 (layered)', LAYERED]] as const) {
  detectionRows(label, { ...correlated, ...(shapes ? { shapes } : {}) }, [[4, 1], [3, 3], [6, 3], [3, 3, 2]], { tensorMajority: 'ignore' }, { tensorMajority: 'move' });
}
