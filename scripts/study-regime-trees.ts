/**
 * Study of the tree errors of additive-tree on the `regimes` zoos: for each true family of the
 * named regimes, the squared distances between its members (by role: P parent, C0–C2 children,
 * G the grandchild under C0), the detected edges, and what the additive criterion and the
 * shared-drift criterion say about the true tree against the detected one.
 *
 *   node dist/scripts/study-regime-trees.js --seeds 0,1 --regimes adam-l2,tiny
 *
 * Reads cached zoos only (npm run eval:regimes builds them).
 */
import { detect } from '../lib/detect';
import { squaredDistancesOver } from '../lib/detect/distances';
import { additiveCost } from '../lib/graph/tree-paths';
import { sharedDriftCost } from '../lib/detect/shared-drift';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo } from '../lib/zoo';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'regimes', 'families']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  const seeds = arg('seeds', '0,1').split(',').map(Number);
  const regimes = new Set(arg('regimes', 'adam-l2,tiny').split(','));
  const families = Number(arg('families', '2'));
  for (const seed of seeds) {
    const zoo = await ensureZoo({ preset: 'regimes', seed, families });
    const set = await openModels([zoo.outDir]);
    const scan = await scanModelSet(set, { device: 'cpu' });
    const ids = scan.models.map((m) => m.id);
    const index = new Map(ids.map((id, i) => [id, i]));
    const result = detect(scan);
    const detParent = new Map(result.edges.map((e) => [e.child, e.parent]));
    const byId = new Map(zoo.models.map((m) => [m.id, m]));
    const roots = zoo.models.filter((m) => m.parent === null && regimes.has(String(m.hyperparameters.regime)));
    for (const root of roots) {
      const kids = zoo.models.filter((m) => m.parent === root.id);
      const grand = zoo.models.filter((m) => kids.some((k) => k.id === m.parent));
      const members = [root, ...kids, ...grand];
      const roles = ['P', ...kids.map((_, j) => `C${j}`), ...grand.map((g) => `G(${kids.findIndex((k) => k.id === g.parent)})`)];
      const role = new Map(members.map((m, i) => [m.id, roles[i]]));
      const fam = members.map((m) => index.get(m.id)!);
      const { d2 } = squaredDistancesOver(scan.tensors, fam, { metric: 'euclidean', normalize: 'none', combine: 'sum' });
      const n = fam.length;
      process.stdout.write(`\nseed ${seed} ${root.hyperparameters.regime} family of ${root.id} (init ${String((root.initialization as Record<string, unknown>).scheme)})\n`);
      members.forEach((m, i) => {
        const h = m.hyperparameters;
        const row = Array.from({ length: n }, (_, j) => d2[i * n + j].toPrecision(4).padStart(10)).join('');
        const dp = detParent.get(m.id);
        process.stdout.write(`  ${roles[i].padEnd(5)} ${String(h.optimizer).padEnd(12)} lr ${String(h.learningRate).padEnd(7)} wd ${String(h.weightDecay).padEnd(6)} ${String(h.steps).padStart(3)} st ${row}   detected parent ${dp ? (role.get(dp) ?? dp) : '-'}\n`);
      });
      // Inner products over the tensors all members have: which candidate explains each model
      // best after an optimal scaling (x ≈ a·p, as weight decay shrinks), against plain d².
      const gram = new Float64Array(n * n);
      for (const t of scan.tensors) {
        const slots = fam.map((m) => t.models.indexOf(m));
        if (slots.some((s) => s < 0)) continue;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gram[i * n + j] += t.gram[slots[i]][slots[j]];
      }
      members.forEach((m, i) => {
        if (!m.parent) return;
        const cands = members.map((_, j) => j).filter((j) => j !== i);
        const scaled = (j: number) => gram[i * n + i] - gram[i * n + j] ** 2 / gram[j * n + j];
        const byD = [...cands].sort((a, b) => d2[i * n + a] - d2[i * n + b]).map((j) => roles[j]);
        const byS = [...cands].sort((a, b) => scaled(a) - scaled(b)).map((j) => roles[j]);
        const a = (j: number) => gram[i * n + j] / gram[j * n + j];
        process.stdout.write(`    ${roles[i]} parent ${role.get(m.parent)}: by d² ${byD.join('<')}; by scaled residual ${byS.join('<')} (a ${cands.map((j) => `${roles[j]} ${a(j).toFixed(4)}`).join(', ')})\n`);
      });
      const truth = Int32Array.from(members, (m) => (m.parent ? members.findIndex((x) => x.id === m.parent) : -1));
      const det = Int32Array.from(members, (m) => {
        const p = detParent.get(m.id);
        const j = p ? members.findIndex((x) => x.id === p) : -1;
        return j;
      });
      const edgesOf = (par: Int32Array) => [...par].flatMap((p, v) => (p >= 0 ? [{ a: p, b: v }] : []));
      const complete = det.filter((p) => p < 0).length === 1;
      const sd = (par: Int32Array) => sharedDriftCost(d2, n, par);
      const t = sd(truth);
      process.stdout.write(`  truth: additive ${additiveCost(d2, n, edgesOf(truth)).toPrecision(4)}, shared-drift ${t.cost.toPrecision(4)} (rho ${t.rho.toFixed(3)})`);
      if (complete) {
        const d = sd(det);
        process.stdout.write(`; detected: additive ${additiveCost(d2, n, edgesOf(det)).toPrecision(4)}, shared-drift ${d.cost.toPrecision(4)} (rho ${d.rho.toFixed(3)})`);
      } else process.stdout.write('; detected tree spans other models');
      process.stdout.write(`; detected family: ${result.families.find((f) => f.includes(root.id))?.map((id) => role.get(id) ?? `${id}(${byId.get(id)?.hyperparameters.regime})`).join(' ')}\n`);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`study failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
