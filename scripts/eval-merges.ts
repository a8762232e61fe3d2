/**
 * `npm run eval:merges`: how well merges of real trained models are found. For each zoo seed,
 * builds (or reuses) the mnist-fc zoo; for each merge kind (linear, slerp, task-arithmetic,
 * ties, dare) writes a model set of the zoo plus one merged child of two fine-tuned siblings per
 * family (lib/zoo/merge.ts), scans it, runs the default method and counts, per kind: merged
 * children whose every true parent was found (found-both-parents), false merges (children
 * reported as merges that are not), and the untyped and typed edge accuracy. The plain zoo is
 * detected too, for false merges on fine-tune trees alone, and a set with BF16 and F16 copies of
 * one child per family (lib/zoo/quantize.ts), for the quantized typer: copies found under their
 * source and typed quantized, and false quantized edges.
 *
 *   npm run eval:merges                              # seeds 0,1 (5 merges per kind and seed)
 *   npm run eval:merges -- --seeds 0,1,2 --kinds linear,ties --json merges.json
 *   npm run eval:merges -- --merge-ratio 0.2         # another residual bound
 *   npm run eval:merges -- --sparse-merges           # plus the TIES/DARE pass over tensors (lib/detect/typing/sparse-merge.ts)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { detect } from '../lib/detect/detect';
import { applySparseMerges, findSparseMerges } from '../lib/detect/typing/sparse-merge';
import { evaluate } from '../lib/eval/metrics';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo } from '../lib/zoo';
import { MERGE_KINDS, MERGE_RECIPES, writeMergedSet, type MergeKind } from '../lib/zoo/merge';
import { writeQuantizedSet } from '../lib/zoo/quantize';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'kinds', 'json', 'merge-ratio', 'sparse-merges']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface Row {
  kind: MergeKind | 'none' | 'quantized';
  seed: number;
  merges: number;
  foundAll: number;
  falseMerges: number;
  edgeAccuracy: number;
  typedEdgeAccuracy: number;
  /** Quantized edges that are not true ones (quantized sets only). */
  falseQuantized?: number;
  /** Found weights against true ones (linear-like kinds), per merged child. */
  weights: { truth: number[]; found: number[] }[];
}

async function main() {
  const seeds = arg('seeds', '0,1').split(',').map(Number);
  const kinds = arg('kinds', MERGE_KINDS.join(',')).split(',') as MergeKind[];
  for (const k of kinds) if (!MERGE_KINDS.includes(k)) throw new Error(`--kinds: unknown merge kind '${k}' (${MERGE_KINDS.join(', ')})`);
  const ratioArg = arg('merge-ratio', '');
  const mergeRatio = ratioArg === '' ? undefined : Number(ratioArg);
  const sparse = process.argv.includes('--sparse-merges');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-merges-'));
  const rows: Row[] = [];
  try {
    for (const seed of seeds) {
      const zoo = await ensureZoo({ preset: 'mnist-fc', scale: 'small', seed, log: (l) => process.stderr.write(`${l}\n`) });
      for (const kind of ['none', ...kinds] as const) {
        let dir = zoo.outDir;
        let truth = zoo.lineage;
        let merged: ReturnType<typeof writeMergedSet>['merged'] = [];
        if (kind !== 'none') {
          const set = writeMergedSet({ zooDir: zoo.outDir, lineage: zoo.lineage, outDir: path.join(tmp, `${kind}-${seed}`), kind, seed });
          ({ dir, lineage: truth, merged } = set);
        }
        const models = await openModels([dir]);
        const scan = await scanModelSet(models, {});
        const result = detect(scan, mergeRatio === undefined ? {} : { mergeRatio });
        if (sparse) applySparseMerges(result, findSparseMerges(result, models));
        const m = evaluate(result, truth);
        const weights = merged.map((mm) => ({
          truth: mm.parents.map((p) => p.weight),
          found: mm.parents.map((p) => result.edges.find((e) => e.child === mm.id && e.parent === p.id)?.weight ?? 0),
        }));
        const foundAll = merged.filter((mm) => mm.parents.every((p) => result.edges.some((e) => e.child === mm.id && e.parent === p.id))).length;
        rows.push({ kind, seed, merges: merged.length, foundAll, falseMerges: m.typed.falseMerges, edgeAccuracy: m.edgeAccuracy, typedEdgeAccuracy: m.typed.typedEdgeAccuracy, weights });
        process.stderr.write(`seed ${seed} ${kind}: ${foundAll}/${merged.length} merges with every parent, ${m.typed.falseMerges} false merges\n`);
        if (kind !== 'none') fs.rmSync(dir, { recursive: true, force: true });
      }
      const q = writeQuantizedSet({ zooDir: zoo.outDir, lineage: zoo.lineage, outDir: path.join(tmp, `quantized-${seed}`), seed });
      const qr = detect(await scanModelSet(await openModels([q.dir]), {}), mergeRatio === undefined ? {} : { mergeRatio });
      const qm = evaluate(qr, q.lineage);
      const found = q.copies.filter((c) => qr.edges.some((e) => e.parent === c.source && e.child === c.id && e.type === 'quantized')).length;
      const falseQ = qr.edges.filter((e) => e.type === 'quantized' && !q.copies.some((c) => c.source === e.parent && c.id === e.child)).length;
      rows.push({ kind: 'quantized', seed, merges: q.copies.length, foundAll: found, falseMerges: qm.typed.falseMerges, falseQuantized: falseQ, edgeAccuracy: qm.edgeAccuracy, typedEdgeAccuracy: qm.typed.typedEdgeAccuracy, weights: [] });
      process.stderr.write(`seed ${seed} quantized: ${found}/${q.copies.length} copies under their source, ${falseQ} false quantized edges\n`);
      fs.rmSync(q.dir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const lines = [
    `Merges of trained mnist-fc siblings (one per family and kind), default method additive-tree${mergeRatio === undefined ? '' : `, mergeRatio ${mergeRatio}`}${sparse ? ', with the sparse-merge pass' : ''}; zoo seeds ${seeds.join(', ')}`,
    `Machine: ${machineDescription()}`,
    '',
    '| merge kind | recipe | merged children found with every parent | false merges | edge accuracy (untyped) | typed edge accuracy | mean abs weight error (found) |',
    '|---|---|---|---|---|---|---|',
    ...(['none', ...kinds] as const).map((kind) => {
      const rs = rows.filter((r) => r.kind === kind);
      const n = rs.reduce((s, r) => s + r.merges, 0);
      const found = rs.reduce((s, r) => s + r.foundAll, 0);
      const errs = rs.flatMap((r) => r.weights.filter((w) => w.found.every((x) => x > 0)).flatMap((w) => w.truth.map((t, i) => Math.abs(t - w.found[i]))));
      return `| ${kind} | ${kind === 'none' ? 'the plain zoo (fine-tunes only)' : MERGE_RECIPES[kind].about} | ${kind === 'none' ? '—' : `${found}/${n}`} | ${rs.reduce((s, r) => s + r.falseMerges, 0)} | ${pct(mean(rs.map((r) => r.edgeAccuracy)))} | ${pct(mean(rs.map((r) => r.typedEdgeAccuracy)))} | ${errs.length ? mean(errs).toFixed(3) : '—'} |`;
    }),
    (() => {
      const rs = rows.filter((r) => r.kind === 'quantized');
      const n = rs.reduce((s, r) => s + r.merges, 0);
      return `| quantized (not a merge) | a BF16 and an F16 copy of one child per family; column 3: copies found under their source and typed quantized; ${rs.reduce((s, r) => s + (r.falseQuantized ?? 0), 0)} false quantized edges | ${rs.reduce((s, r) => s + r.foundAll, 0)}/${n} | ${rs.reduce((s, r) => s + r.falseMerges, 0)} | ${pct(mean(rs.map((r) => r.edgeAccuracy)))} | ${pct(mean(rs.map((r) => r.typedEdgeAccuracy)))} | — |`;
    })(),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify(rows, null, 2));
}

main().catch((e) => {
  process.stderr.write(`eval:merges failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
