/**
 * `npm run eval:declared`: what declared bases add, and what wrong ones cost. For each zoo seed
 * (mnist-fc), writes copies of the zoo's models whose safetensors metadata declares a base:
 * the true parent, except for a share `--wrong` of the children, which declare another model
 * of their family (a mislabelled card). Detects with the weights only and with
 * `--use-declared` semantics (lib/detect/typing/declared.ts) and prints directed-edge accuracy
 * for both, and how many verdicts were agree / disagree.
 *
 *   npm run eval:declared                         # seeds 0,1,2,3,4; wrong shares 0, 0.2, 0.5
 *   npm run eval:declared -- --seeds 0,1 --wrong 0,1
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { detect } from '../lib/detect/detect';
import { applyDeclared } from '../lib/detect/typing/declared';
import { evaluate } from '../lib/eval/metrics';
import { readAllDeclarations } from '../lib/io/declared';
import { openModels } from '../lib/io/discover';
import { writeSafetensors } from '../lib/io/safetensors-writer';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo } from '../lib/zoo';
import { readFloatModel } from '../lib/zoo/merge';
import { deriveSeed, Rng } from '../lib/zoo/rng';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'wrong']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  const seeds = arg('seeds', '0,1,2,3,4').split(',').map(Number);
  const shares = arg('wrong', '0,0.2,0.5').split(',').map(Number);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-declared-'));
  const rows: { share: number; seed: number; weights: number; prior: number; agree: number; disagree: number; moved: number }[] = [];
  try {
    for (const seed of seeds) {
      const zoo = await ensureZoo({ preset: 'mnist-fc', scale: 'small', seed, log: (l) => process.stderr.write(`${l}\n`) });
      const scan = await scanModelSet(await openModels([zoo.outDir]), {});
      const weightsOnly = evaluate(detect(scan), zoo.lineage).edgeAccuracy;
      for (const share of shares) {
        const dir = path.join(tmp, `${seed}-${share}`);
        fs.mkdirSync(dir);
        const rng = new Rng(deriveSeed(seed, 'declared', share));
        const family = (id: string) => zoo.lineage.families.find((f) => f.includes(id)) ?? [id];
        for (const m of scan.models) {
          const parent = zoo.lineage.edges.find((e) => e.child === m.id)?.parent;
          let base = parent;
          if (parent && rng.next() < share) {
            const others = family(m.id).filter((x) => x !== m.id && x !== parent);
            base = others[Math.floor(rng.next() * others.length)];
          }
          const model = readFloatModel(m.path);
          writeSafetensors(path.join(dir, `${m.id}.safetensors`), [...model].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data })), base ? { base_model: base } : undefined);
        }
        const set = await openModels([dir]);
        const s2 = await scanModelSet(set, {});
        const r = detect(s2);
        const before = JSON.stringify(r.edges.map((e) => [e.parent, e.child]));
        const decl = readAllDeclarations(s2.models, true);
        applyDeclared(r, decl.byModel, true);
        const moved = r.edges.filter((e, i) => JSON.stringify([e.parent, e.child]) !== JSON.stringify((JSON.parse(before) as string[][])[i])).length;
        rows.push({
          share, seed, weights: weightsOnly, prior: evaluate(r, zoo.lineage).edgeAccuracy,
          agree: r.models.filter((m) => m.declared?.verdict === 'agree').length,
          disagree: r.models.filter((m) => m.declared?.verdict === 'disagree').length,
          moved,
        });
        process.stderr.write(`seed ${seed} wrong ${share}: weights ${weightsOnly.toFixed(3)}, with declared ${rows[rows.length - 1].prior.toFixed(3)}, ${moved} edges changed\n`);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `Declared bases as a prior (--use-declared), mnist-fc small zoos, seeds ${seeds.join(', ')}; declarations in safetensors metadata`,
    `Machine: ${machineDescription()}`,
    '',
    '| wrong declarations | edge accuracy, weights only | edge accuracy, with declarations | edges changed by the prior | verdicts agree / disagree |',
    '|---|---|---|---|---|',
    ...shares.map((share) => {
      const rs = rows.filter((r) => r.share === share);
      return `| ${pct(share)} | ${pct(mean(rs.map((r) => r.weights)))} | ${pct(mean(rs.map((r) => r.prior)))} | ${rs.reduce((s, r) => s + r.moved, 0)} | ${rs.reduce((s, r) => s + r.agree, 0)} / ${rs.reduce((s, r) => s + r.disagree, 0)} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`eval:declared failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
