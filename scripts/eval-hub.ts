/**
 * `npm run eval:hub`: typed lineage on hub-shaped model sets (the `hub` zoo preset: fine-tunes,
 * grandchildren, PEFT adapters, merged LoRAs, linear/SLERP/TIES merges of siblings and cousins,
 * GGUF Q8_0/Q4_K copies, a duplicate, an unrelated model, model cards with one mislabelled).
 * Per seed it builds (or reuses) the zoo, scans it, runs the default method, compares the
 * declared bases with the weights, and reports:
 *   typed edge accuracy      true edges found with the right parent, direction and type
 *   merges, both parents     merged children whose every true parent was found
 *   quantized attached       quantized copies with an edge from their true source (and typed so)
 *   cards flagged            mislabelled cards with the verdict 'disagree'; false flags = 'disagree'
 *                            on a card that names a true parent
 *   low-rank                 merged-LoRA edges reported lowRank, and lowRank on full fine-tunes
 *   untyped edge accuracy    true parent → child pairs found with the right direction
 * three times: from the weights alone (`--weights-only`: copies drawn in model order), with the
 * default use of declarations (they order identical copies, which the weights cannot), and with
 * declarations as a prior (`--use-declared`).
 *
 *   npm run eval:hub                                  # seeds 0..4 (zoos cached)
 *   npm run eval:hub -- --seeds 0,1 --zoos /tmp/hub   # zoos in /tmp/hub/s<seed>
 *   npm run eval:hub -- --json hub.json
 *   npm run eval:hub -- --no-sparse-merges           # without the TIES/DARE pass (lib/detect/typing/sparse-merge.ts)
 */
import * as fs from 'fs';
import * as path from 'path';
import { detect } from '../lib/detect/detect';
import { applyDeclared, type DeclaredUse } from '../lib/detect/typing/declared';
import { markLowRank } from '../lib/detect/typing/low-rank';
import { applySparseMerges, findSparseMerges } from '../lib/detect/typing/sparse-merge';
import type { DetectionResult } from '../lib/detect/types';
import { evaluate, formatConfusion } from '../lib/eval/metrics';
import { readAllDeclarations } from '../lib/io/declared';
import { openModels } from '../lib/io/discover';
import { EDGE_TYPES, edgeTypeOf } from '../lib/io/edge-types';
import type { Lineage } from '../lib/io/types';
import { scanModelSet } from '../lib/scan/scan';
import { ensureZoo } from '../lib/zoo';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['seeds', 'zoos', 'json', 'no-sparse-merges']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

export interface HubScore {
  trueEdges: number;
  typedRight: number;
  untypedRight: number;
  merges: number;
  mergesBoth: number;
  falseMerges: number;
  quantized: number;
  quantizedAttached: number;
  quantizedTyped: number;
  wrongCards: number;
  wrongFlagged: number;
  rightCards: number;
  falseFlags: number;
  lowRankTrue: number;
  lowRankFound: number;
  lowRankFalse: number;
  /** Per true type: [typed right, edges]. */
  byType: Record<string, [number, number]>;
  confusion: string;
}

/** Scores one detection (declared verdicts already applied) against the truth. */
export function scoreHub(result: DetectionResult, truth: Lineage, declaredBases: Map<string, (string | null)[]>): HubScore {
  const m = evaluate(result, truth);
  const has = (p: string, c: string) => result.edges.find((e) => e.parent === p && e.child === c);
  const byType: Record<string, [number, number]> = {};
  for (const t of EDGE_TYPES) byType[t] = [0, 0];
  for (const e of truth.edges) {
    const t = edgeTypeOf(e);
    const d = has(e.parent, e.child) ?? (t === 'duplicate' ? has(e.child, e.parent) : undefined);
    byType[t][1]++;
    if (d && edgeTypeOf(d) === t) byType[t][0]++;
  }
  const trueParents = new Map<string, Set<string>>();
  for (const e of truth.edges) {
    if (!trueParents.has(e.child)) trueParents.set(e.child, new Set());
    trueParents.get(e.child)!.add(e.parent);
    // A duplicate's card may name either copy.
    if (edgeTypeOf(e) === 'duplicate') {
      if (!trueParents.has(e.parent)) trueParents.set(e.parent, new Set());
      trueParents.get(e.parent)!.add(e.child);
    }
  }
  let wrongCards = 0, wrongFlagged = 0, rightCards = 0, falseFlags = 0;
  for (const model of result.models) {
    const bases = (declaredBases.get(model.id) ?? []).filter((b): b is string => b !== null);
    if (!bases.length) continue;
    const right = bases.some((b) => trueParents.get(model.id)?.has(b));
    const flagged = model.declared?.verdict === 'disagree';
    if (right) (rightCards++, flagged && falseFlags++);
    else (wrongCards++, flagged && wrongFlagged++);
  }
  const q = truth.edges.filter((e) => edgeTypeOf(e) === 'quantized');
  const lr = truth.edges.filter((e) => edgeTypeOf(e) === 'finetune' && e.rank);
  const full = truth.edges.filter((e) => edgeTypeOf(e) === 'finetune' && !e.rank);
  const merges = new Set(truth.edges.filter((e) => edgeTypeOf(e) === 'merge').map((e) => e.child));
  return {
    trueEdges: truth.edges.length,
    typedRight: Math.round(m.typed.typedEdgeAccuracy * truth.edges.length),
    untypedRight: m.counts.correctEdges,
    merges: merges.size,
    mergesBoth: Math.round((m.typed.multiParentRecall ?? 0) * merges.size),
    falseMerges: m.typed.falseMerges,
    quantized: q.length,
    quantizedAttached: q.filter((e) => has(e.parent, e.child)).length,
    quantizedTyped: q.filter((e) => has(e.parent, e.child)?.type === 'quantized').length,
    wrongCards,
    wrongFlagged,
    rightCards,
    falseFlags,
    lowRankTrue: lr.length,
    lowRankFound: lr.filter((e) => has(e.parent, e.child)?.lowRank).length,
    lowRankFalse: full.filter((e) => has(e.parent, e.child)?.lowRank).length,
    byType,
    confusion: formatConfusion(m.typed.confusion),
  };
}

async function main() {
  const seeds = arg('seeds', '0,1,2,3,4').split(',').map(Number);
  const zoos = arg('zoos', '');
  const noSparse = process.argv.includes('--no-sparse-merges');
  const rows: { seed: number; mode: DeclaredUse; s: HubScore }[] = [];
  for (const seed of seeds) {
    const zoo = await ensureZoo({ preset: 'hub', seed, ...(zoos ? { outDir: path.join(zoos, `s${seed}`) } : {}), log: (l) => process.stderr.write(`${l}\n`) });
    const scan = await scanModelSet(await openModels([zoo.outDir]), {});
    const decl = readAllDeclarations(scan.models, true);
    const bases = new Map([...decl.byModel].map(([id, ds]) => [id, ds.map((d) => d.resolved)]));
    const set = await openModels([zoo.outDir]);
    for (const mode of ['none', 'copies', 'prior'] as const) {
      const result = detect(scan);
      if (!noSparse) applySparseMerges(result, findSparseMerges(result, set));
      applyDeclared(result, decl.byModel, mode);
      await markLowRank(result, set);
      const s = scoreHub(result, zoo.lineage as Lineage, bases);
      rows.push({ seed, mode, s });
      process.stderr.write(
        `seed ${seed} ${mode}: typed ${s.typedRight}/${s.trueEdges}, untyped ${s.untypedRight}/${s.trueEdges}, merges ${s.mergesBoth}/${s.merges}, ` +
          `quantized ${s.quantizedAttached}/${s.quantized}, wrong cards flagged ${s.wrongFlagged}/${s.wrongCards}, false flags ${s.falseFlags}/${s.rightCards}\n${s.confusion}\n`,
      );
    }
  }
  const sum = (mode: string, f: (s: HubScore) => number) => rows.filter((r) => r.mode === mode).reduce((a, r) => a + f(r.s), 0);
  const ratio = (mode: string, num: (s: HubScore) => number, den: (s: HubScore) => number) => {
    const n = sum(mode, num);
    const d = sum(mode, den);
    return `${n}/${d} = ${d ? (n / d).toFixed(3) : '—'}`;
  };
  const lines = [
    `Typed lineage on the hub zoo (tiny-llama, default method additive-tree${noSparse ? ', no sparse-merge pass' : ''}), seeds ${seeds.join(', ')}`,
    `Machine: ${machineDescription()}`,
    '',
    '| measure | target | weights only (`--weights-only`) | default (cards order identical copies) | with declarations as a prior (`--use-declared`) |',
    '|---|---|---|---|---|',
    ...([
      ['typed edge accuracy (parent(s), direction, type)', '≥ 0.95', (s: HubScore) => s.typedRight, (s: HubScore) => s.trueEdges],
      ['merged children with both parents', '≥ 0.90', (s: HubScore) => s.mergesBoth, (s: HubScore) => s.merges],
      ['quantized copies attached to their source', 'all', (s: HubScore) => s.quantizedAttached, (s: HubScore) => s.quantized],
      ['… and typed quantized', '', (s: HubScore) => s.quantizedTyped, (s: HubScore) => s.quantized],
      ['mislabelled cards flagged', 'all', (s: HubScore) => s.wrongFlagged, (s: HubScore) => s.wrongCards],
      ['correct cards flagged (false flags)', '0', (s: HubScore) => s.falseFlags, (s: HubScore) => s.rightCards],
      ['merged LoRAs reported low-rank', '', (s: HubScore) => s.lowRankFound, (s: HubScore) => s.lowRankTrue],
      ['full fine-tunes reported low-rank (false)', '', (s: HubScore) => s.lowRankFalse, (s: HubScore) => s.trueEdges - s.lowRankTrue],
      ['untyped edge accuracy (pair and direction)', '', (s: HubScore) => s.untypedRight, (s: HubScore) => s.trueEdges],
    ] as const).map(([name, target, n, d]) => `| ${name} | ${target} | ${ratio('none', n, d)} | ${ratio('copies', n, d)} | ${ratio('prior', n, d)} |`),
    `| false merges (children given ≥ 2 parents that have one) | 0 | ${sum('none', (s) => s.falseMerges)} | ${sum('copies', (s) => s.falseMerges)} | ${sum('prior', (s) => s.falseMerges)} |`,
    '',
    'Typed accuracy by true edge type:',
    '',
    '| type | weights only | default |',
    '|---|---|---|',
    ...EDGE_TYPES.map((t) => `| ${t} | ${sum('none', (s) => s.byType[t][0])}/${sum('none', (s) => s.byType[t][1])} | ${sum('copies', (s) => s.byType[t][0])}/${sum('copies', (s) => s.byType[t][1])} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify(rows, null, 2));
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`eval:hub failed: ${String(e?.stack ?? e)}\n`);
    process.exitCode = 1;
  });
}
