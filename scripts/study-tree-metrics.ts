/**
 * Which pairwise quantity makes the additive-tree criterion find the true family trees in
 * every training regime? For each true family of the cached `regimes` zoos (and of other
 * presets' cached zoos), every labelled tree over its members is scored by the additive
 * criterion (lib/graph/tree-paths.ts) on several quantities, and the best tree is compared
 * with the true one (undirected edges): an exhaustive search, so the figures are the
 * criterion's own, not the local search's.
 *
 *   node dist/scripts/study-tree-metrics.js --seeds 0,1,2 [--presets mnist-fc]
 *
 * Quantities: whole-model squared distance Σ_t ‖a_t − b_t‖² (the default's), its angular
 * part Σ_t 2(‖a_t‖‖b_t‖ − a_t·b_t) (the squared distance less the norm change (‖a_t‖ − ‖b_t‖)²,
 * which weight decay makes large and shared along a family), and −log cos of the whole models
 * (additive along a tree when every child is a scaled parent plus an orthogonal increment).
 * Rooted criteria on the squared distance: shared drift, with a reversion parameter, and the
 * default tree model's product of shared drift and the spread of the increment correlations
 * (and that spread alone).
 */
import type { ScanTensor } from '../lib/scan/types';
import { additiveCost } from '../lib/graph/tree-paths';
import { correlationSpread, driftCorrelationCost } from '../lib/detect/drift-correlations';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo } from '../lib/zoo';
import type { ZooPreset } from '../lib/zoo';
import { REGIMES } from '../lib/zoo/regimes';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'presets', 'families']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Every labelled tree on n nodes, from its Prüfer sequence. */
function* allTrees(n: number): Generator<{ a: number; b: number }[]> {
  if (n === 2) {
    yield [{ a: 0, b: 1 }];
    return;
  }
  const seq = new Array<number>(n - 2).fill(0);
  for (;;) {
    const degree = new Array<number>(n).fill(1);
    for (const s of seq) degree[s]++;
    const edges: { a: number; b: number }[] = [];
    const deg = degree.slice();
    for (const s of seq) {
      const leaf = deg.findIndex((d) => d === 1);
      edges.push({ a: leaf, b: s });
      deg[leaf]--;
      deg[s]--;
    }
    const rest = deg.flatMap((d, v) => (d === 1 ? [v] : []));
    edges.push({ a: rest[0], b: rest[1] });
    yield edges;
    let k = n - 3;
    while (k >= 0 && seq[k] === n - 1) seq[k--] = 0;
    if (k < 0) return;
    seq[k]++;
  }
}

const TREE_METRICS = ['squared distance', 'angular part', '-log cos (whole model)', 'squared distance, norms projected out'] as const;

/** The quantities over the tensors all members have (row-major n×n). */
function familyMetrics(tensors: ScanTensor[], models: number[]): Record<(typeof TREE_METRICS)[number], Float64Array> {
  const n = models.length;
  const d2 = new Float64Array(n * n);
  const ang = new Float64Array(n * n);
  const G = new Float64Array(n * n);
  for (const t of tensors) {
    const slots = models.map((m) => t.models.indexOf(m));
    if (slots.some((s) => s < 0)) continue;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const gij = t.gram[slots[i]][slots[j]];
        const gii = t.gram[slots[i]][slots[i]];
        const gjj = t.gram[slots[j]][slots[j]];
        G[i * n + j] += gij;
        if (i === j) continue;
        d2[i * n + j] += Math.max(0, gii + gjj - 2 * gij);
        ang[i * n + j] += Math.max(0, 2 * (Math.sqrt(gii * gjj) - gij));
      }
    }
  }
  const logcos = new Float64Array(n * n);
  const proj = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      logcos[i * n + j] = -Math.log(Math.min(1, G[i * n + j] / Math.sqrt(G[i * n + i] * G[j * n + j])));
      // ‖a − b‖² less what their common direction explains: the residuals after projecting
      // out the family's mean model (shrinkage along the parent) from both.
      proj[i * n + j] = 0;
    }
  }
  // Family mean direction m; project each model onto m⊥ and take squared distances there.
  let mm = 0;
  const gm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      gm[i] += G[i * n + j] / n;
      mm += G[i * n + j] / (n * n);
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const ri = G[i * n + i] - (gm[i] * gm[i]) / mm;
      const rj = G[j * n + j] - (gm[j] * gm[j]) / mm;
      const rij = G[i * n + j] - (gm[i] * gm[j]) / mm;
      proj[i * n + j] = Math.max(0, ri + rj - 2 * rij);
    }
  }
  return { 'squared distance': d2, 'angular part': ang, '-log cos (whole model)': logcos, 'squared distance, norms projected out': proj };
}

/**
 * Rooted criterion: shared drift (ρ) plus reversion (κ): a child's increment anti-correlates
 * with its parent's by κ beyond the shared ρ. Least squares in (ρ, κ), ρ, κ clamped to ≥ 0.
 */
function driftReversionCost(d2: Float64Array, n: number, parent: Int32Array, useKappa: boolean): number {
  const ch: number[][] = Array.from({ length: n }, () => []);
  parent.forEach((p, v) => p >= 0 && ch[p].push(v));
  const root = parent.indexOf(-1);
  const l = new Float64Array(n);
  const h = new Float64Array(n);
  const k = new Float64Array(n);
  const depth = new Int32Array(n);
  const order = [root];
  for (let i = 0; i < order.length; i++) {
    const u = order[i];
    for (const c of ch[u]) {
      l[c] = Math.sqrt(d2[u * n + c]);
      h[c] = h[u] + l[c];
      k[c] = k[u] + l[u] * l[c];
      depth[c] = depth[u] + 1;
      order.push(c);
    }
  }
  const rows: number[][] = [];
  for (let x = 0; x < n; x++) {
    for (let y = x + 1; y < n; y++) {
      // Walk up to the lowest common ancestor, summing l² and noting the first edges below it.
      let a = x;
      let b = y;
      let S = 0;
      let lastA = -1;
      let lastB = -1;
      while (a !== b) {
        if (depth[a] >= depth[b]) {
          S += l[a] * l[a];
          lastA = a;
          a = parent[a];
        } else {
          S += l[b] * l[b];
          lastB = b;
          b = parent[b];
        }
      }
      const z = a;
      const K = (lastA >= 0 ? k[x] - k[z] - l[z] * l[lastA] : 0) + (lastB >= 0 ? k[y] - k[z] - l[z] * l[lastB] : 0);
      const dh = h[x] - h[y];
      rows.push([d2[x * n + y] - S, dh * dh - S, -2 * K]);
    }
  }
  // Least squares of r = a − ρ·b − κ·c over ρ, κ ≥ 0 (try the interior, then each face).
  const cost = (rho: number, kap: number) => rows.reduce((s, [a, b, c]) => s + (a - rho * b - kap * c) ** 2, 0);
  let bb = 0, cc = 0, bc = 0, ab = 0, ac = 0;
  for (const [a, b, c] of rows) {
    bb += b * b; cc += c * c; bc += b * c; ab += a * b; ac += a * c;
  }
  const cands: [number, number][] = [[0, 0]];
  if (bb > 0) cands.push([Math.min(1 - 1e-9, Math.max(0, ab / bb)), 0]);
  if (useKappa) {
    if (cc > 0) cands.push([0, Math.max(0, ac / cc)]);
    const det = bb * cc - bc * bc;
    if (det > 0) {
      const rho = (ab * cc - ac * bc) / det;
      const kap = (ac * bb - ab * bc) / det;
      if (rho >= 0 && rho < 1 && kap >= 0) cands.push([rho, kap]);
    }
  }
  return Math.min(...cands.map(([r, q]) => cost(r, q)));
}

const key = (a: number, b: number) => (a < b ? `${a}-${b}` : `${b}-${a}`);

async function main() {
  const seeds = arg('seeds', '0,1').split(',').map(Number);
  const presets = arg('presets', '').split(',').filter(Boolean) as ZooPreset[];
  const families = Number(arg('families', '2'));
  const tally = new Map<string, Map<string, { trees: number; treesRight: number; edges: number; edgesRight: number }>>();
  for (const preset of ['regimes' as ZooPreset, ...presets]) {
    for (const seed of seeds) {
      const opts = preset === 'regimes' ? { preset, seed, families } : { preset, seed };
      const zoo = await ensureZoo(opts);
      const set = await openModels([zoo.outDir]);
      const scan = await scanModelSet(set, { device: 'cpu' });
      const index = new Map(scan.models.map((m, i) => [m.id, i]));
      for (const root of zoo.models.filter((m) => m.parent === null)) {
        const group = String(root.hyperparameters.regime ?? preset);
        const members = [root];
        for (let i = 0; i < members.length; i++) members.push(...zoo.models.filter((m) => m.parent === members[i].id));
        const n = members.length;
        if (n < 3 || n > 8) continue;
        const local = new Map(members.map((m, i) => [m.id, i]));
        const truth = new Set(members.slice(1).map((m) => key(local.get(m.parent!)!, local.get(m.id)!)));
        const metrics = familyMetrics(scan.tensors, members.map((m) => index.get(m.id)!));
        const d = metrics['squared distance'];
        const rooted: { name: string; trueRoot: boolean; cost: (par: Int32Array) => number }[] = [
          ...[false, true].flatMap((trueRoot) =>
            [false, true].map((withKappa) => ({
              name: `${trueRoot ? 'true root' : 'any root'}: shared drift${withKappa ? ' + reversion' : ''}`,
              trueRoot,
              cost: (par: Int32Array) => driftReversionCost(d, n, par, withKappa),
            })),
          ),
          // The default tree model's criterion (lib/detect/drift-correlations.ts).
          { name: 'true root: shared drift × correlation spread', trueRoot: true, cost: (par: Int32Array) => driftCorrelationCost(d, n, par).cost },
          { name: 'true root: correlation spread alone', trueRoot: true, cost: (par: Int32Array) => correlationSpread(d, n, par) },
        ];
        for (const { name, trueRoot, cost: costOf } of rooted) {
          let best: { edges: { a: number; b: number }[]; cost: number } | null = null;
          for (const edges of allTrees(n)) {
            for (let r = 0; r < n; r++) {
              if (trueRoot && r !== 0) continue;
              const par = new Int32Array(n).fill(-1);
              const adj: number[][] = Array.from({ length: n }, () => []);
              for (const e of edges) {
                adj[e.a].push(e.b);
                adj[e.b].push(e.a);
              }
              const q = [r];
              const seen = new Set([r]);
              for (let i = 0; i < q.length; i++) for (const v of adj[q[i]]) if (!seen.has(v)) { seen.add(v); par[v] = q[i]; q.push(v); }
              const cost = costOf(par);
              if (best === null || cost < best.cost) best = { edges, cost };
            }
          }
          const right = best!.edges.filter((e) => truth.has(key(e.a, e.b))).length;
          const byGroup = tally.get(name) ?? new Map();
          tally.set(name, byGroup);
          const t = byGroup.get(group) ?? { trees: 0, treesRight: 0, edges: 0, edgesRight: 0 };
          byGroup.set(group, t);
          t.trees++;
          t.edges += n - 1;
          t.edgesRight += right;
          if (right === n - 1) t.treesRight++;
        }
        for (const name of TREE_METRICS) {
          const d = metrics[name];
          let best: { edges: { a: number; b: number }[]; cost: number } | null = null;
          for (const edges of allTrees(n)) {
            const cost = additiveCost(d, n, edges);
            if (best === null || cost < best.cost) best = { edges, cost };
          }
          const right = best!.edges.filter((e) => truth.has(key(e.a, e.b))).length;
          const byGroup = tally.get(name) ?? new Map();
          tally.set(name, byGroup);
          const t = byGroup.get(group) ?? { trees: 0, treesRight: 0, edges: 0, edgesRight: 0 };
          byGroup.set(group, t);
          t.trees++;
          t.edges += n - 1;
          t.edgesRight += right;
          if (right === n - 1) t.treesRight++;
        }
      }
      process.stderr.write(`${preset} seed ${seed} done\n`);
    }
  }
  const seen = [...tally.values().next().value!.keys()];
  const groups = [...REGIMES, ...presets].filter((g) => seen.includes(g));
  process.stdout.write(`| quantity | ${groups.join(' | ')} | all |\n|---|${groups.map(() => '---:').join('|')}|---:|\n`);
  for (const [name, byGroup] of tally) {
    let e = 0;
    let r = 0;
    const cells = groups.map((g) => {
      const t = byGroup.get(g)!;
      e += t.edges;
      r += t.edgesRight;
      return `${((100 * t.edgesRight) / t.edges).toFixed(1)} (${t.treesRight}/${t.trees})`;
    });
    process.stdout.write(`| ${name} | ${cells.join(' | ')} | ${((100 * r) / e).toFixed(1)} |\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`study failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
