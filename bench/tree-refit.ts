/**
 * `npm run bench:tree`: the cost of refitting one rooted family tree by shared drift alone
 * (shared-drift.ts, priced moves) and with the increment-correlation moves after it
 * (drift-correlations.ts, exact moves: the default tree model), on seeded random families of
 * n models whose points are sums of random increments (every third 5× longer), started from
 * the star around the true root. Times are medians of repeated runs in one process, quoted
 * as the ratio to shared drift alone; "edges right" counts recovered parents (of n − 1).
 *
 *   npm run bench:tree [-- --sizes 5,10,20,40] [-- --dim 200]
 */
import { refitSharedDrift } from '../lib/detect/shared-drift';
import { refitDriftCorrelations } from '../lib/detect/drift-correlations';
import { createRng } from '../lib/graph/rng';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['sizes', 'dim']);

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
