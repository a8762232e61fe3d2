import * as fs from 'fs';
import { detect } from '../../detect/detect';
import { methodSpec } from '../../detect/methods/registry';
import type { DetectionResult } from '../../detect/types';
import { openModels } from '../../io/discover';
import { readLineage } from '../../io/lineage';
import type { Lineage, ModelSet } from '../../io/types';
import { renderDot, renderHtml, renderJson, renderText } from '../../report';
import { loadScan } from '../../scan/result-io';
import { scanModelSet } from '../../scan/scan';
import type { ScanResult } from '../../scan/types';
import { UsageError } from '../args';
import { Command, CommandIo, QUIET_OPTION } from '../command';
import { DETECT_OPTIONS, detectOptionsFrom } from '../detect-options';
import { fmtBytes, ProgressBar } from '../progress';
import { openOptionsFrom, SCAN_OPTIONS, scanOptionsFrom } from '../scan-options';
import { alignmentReport } from './scan';
import { confirmEdges, detectIndex } from '../../hub/detect-index';
import { readAllDeclarations } from '../../io/declared';
import { applyDeclared } from '../../detect/typing/declared';
import { markLowRank } from '../../detect/typing/low-rank';
import { applySparseMerges, findSparseMerges } from '../../detect/typing/sparse-merge';

/** Scans the paths, or loads --scan FILE (then paths are optional). */
export async function scanOrLoad(args: { opts: Record<string, unknown>; positionals: string[] }, io: CommandIo): Promise<{ scan: ScanResult; set?: ModelSet }> {
  const scanFile = args.opts.scan as string | undefined;
  if (scanFile) return { scan: loadScan(scanFile) };
  if (args.positionals.length === 0) throw new UsageError('give model paths, or --scan FILE');
  const set = await openModels(args.positionals, openOptionsFrom(args as never));
  const bar = new ProgressBar('scan', { enabled: !io.quiet });
  const scan = await scanModelSet(set, { ...scanOptionsFrom(args as never), onProgress: (p) => bar.updateBytes(p.bytesDone, p.bytesTotal) });
  const rate = scan.run.seconds > 0 ? scan.run.bytes / scan.run.seconds : 0;
  bar.done(`${scan.models.length} models, ${fmtBytes(scan.run.bytes)} at ${fmtBytes(rate)}/s (${scan.run.device}, ${scan.run.isa})`);
  if (!io.quiet) {
    for (const w of set.warnings) io.err(`note: ${w}\n`);
    for (const line of alignmentReport(scan)) io.err(`note: ${line}\n`);
  }
  return { scan, set };
}

export async function renderResult(result: DetectionResult, format: string, truth?: Lineage): Promise<string> {
  switch (format) {
    case 'json':
      return renderJson(result);
    case 'dot':
      return renderDot(result, { truth });
    case 'html':
      return renderHtml(result, { truth });
    default:
      return renderText(result, { truth, color: Boolean(process.stdout.isTTY) });
  }
}

export const detectCommand: Command = {
  name: 'detect',
  summary: 'find parent->child fine-tuning edges and multi-generation trees in a set of models',
  description:
    'Scans the models (or reuses --scan FILE) and runs a detection method on the result: the learning-free methods cost one pass over the weights and then only M×M work. Prints an indented forest (text), or JSON (docs/report.md), Graphviz DOT, or a self-contained HTML report.',
  positionals: [{ name: 'paths', description: 'model files or directories (optional with --scan)', variadic: true }],
  options: [
    { name: 'format', alias: 'f', type: 'string', arg: 'F', description: 'output format', default: 'text', choices: ['text', 'json', 'dot', 'html'] },
    { name: 'out', alias: 'o', type: 'string', arg: 'FILE', description: 'write the output to FILE instead of stdout' },
    { name: 'scan', type: 'string', arg: 'FILE', description: 'reuse a scan result instead of scanning' },
    { name: 'truth', type: 'string', arg: 'FILE', description: 'lineage.json to mark each edge right or wrong' },
    { name: 'index', type: 'string', arg: 'DIR', description: 'detect over a fingerprint index (`phylogeny index add`) instead of scanning; docs/index.md' },
    { name: 'confirm', type: 'number', arg: 'K', description: 'with --index: re-check the K most confident edges with an exact scan of their two models', default: 0 },
    { name: 'use-declared', type: 'boolean', description: 'let declared bases (config.json _name_or_path, README base_model, adapter_config.json, safetensors metadata) decide edges the weights leave open; never overrides a confident edge. Without it declarations only order identical copies (which the weights cannot) and are compared with the weights (agree / disagree / none)' },
    { name: 'weights-only', type: 'boolean', description: 'let no declaration change the result, not even the order of identical copies (drawn then in model order); declarations are still compared with the weights' },
    { name: 'sparse-merges', type: 'boolean', description: 'a second, bounded pass over the finetune edges found: reads both models\' matrices (at most 64M elements per edge) and retypes a child that equals its parent on most entries and whose changes are other family members\' changes as a TIES/DARE-style merge of those (docs/typed.md); --no-sparse-merges skips it. Needs the model files', default: true },
    { name: 'low-rank-max', type: 'number', arg: 'R', description: 'a second, bounded pass over the finetune edges found: reads both models\' matrices and marks an edge low-rank (a merged LoRA) when every changed matrix has numerical rank ≤ R (randomized sketch, docs/typed.md); 0 skips it. Needs the model files', default: 16 },
    ...DETECT_OPTIONS,
    ...SCAN_OPTIONS,
    QUIET_OPTION,
  ],
  examples: [
    'phylogeny detect ./checkpoints',
    'phylogeny detect ./llamas --fake-init hf --format html --out report.html',
    'phylogeny detect --scan scan.json --method kmeans-along --k 4 --format json',
  ],
  async run(args, io) {
    const detectOpts = detectOptionsFrom(args);
    const method = args.opts.method as string;
    const modelFiles = methodSpec(method).modelFiles;
    const detector = args.opts.detector as string | undefined;
    if (modelFiles && args.opts.scan) throw new UsageError(`--method ${method} reads the weights: give model paths, not --scan`);
    const indexDir = args.opts.index as string | undefined;
    let result: DetectionResult;
    if (indexDir !== undefined) {
      if (modelFiles) throw new UsageError(`--method ${method} reads the weights: it cannot run on --index`);
      if (args.opts.scan || args.positionals.length) throw new UsageError('--index replaces the scan: give no model paths and no --scan');
      const confirm = args.opts.confirm as number;
      if (!Number.isInteger(confirm) || confirm < 0) throw new UsageError(`--confirm must be a non-negative integer, got ${confirm}`);
      result = await detectIndex(indexDir, { ...detectOpts, threads: args.opts.threads as number | undefined });
      if (confirm > 0) await confirmEdges(result, confirm, detectOpts);
    } else {
      const t0 = Date.now();
      const { scan, set } = await scanOrLoad(args, io);
      const scanMs = Date.now() - t0;
      result = modelFiles ? await modelFiles.run(scan, set!, { detector }) : detect(scan, detectOpts);
      result.timings = { scan: scanMs, ...result.timings };
      if (args.opts['sparse-merges'] !== false && set) result.warnings.push(...applySparseMerges(result, findSparseMerges(result, set)));
      // Declared bases: always compared with the weights; by default they order identical
      // copies only, a prior with --use-declared, nothing with --weights-only.
      const useDeclared = Boolean(args.opts['use-declared']);
      if (useDeclared && args.opts['weights-only']) throw new UsageError('--use-declared and --weights-only contradict each other: give one');
      const readable = scan.models.filter((m) => fs.existsSync(m.path));
      const declared = readAllDeclarations(readable, useDeclared);
      const use = useDeclared ? 'prior' : args.opts['weights-only'] ? 'none' : 'copies';
      result.warnings.push(...declared.warnings, ...applyDeclared(result, declared.byModel, use));
      const lowRankMax = args.opts['low-rank-max'] as number;
      if (!Number.isInteger(lowRankMax) || lowRankMax < 0) throw new UsageError(`--low-rank-max must be a non-negative integer, got ${lowRankMax}`);
      if (lowRankMax > 0 && set) result.warnings.push(...(await markLowRank(result, set, { maxRank: lowRankMax })));
    }
    const truthFile = args.opts.truth as string | undefined;
    const truth = truthFile ? await readLineage(truthFile) : undefined;
    const text = await renderResult(result, args.opts.format as string, truth);
    const out = args.opts.out as string | undefined;
    if (out) {
      fs.writeFileSync(out, text.endsWith('\n') ? text : `${text}\n`);
      if (!io.quiet) io.err(`wrote ${out}\n`);
    } else io.out(text.endsWith('\n') ? text : `${text}\n`);
    if (!io.quiet) for (const w of result.warnings) io.err(`note: ${w}\n`);
    return 0;
  },
};
