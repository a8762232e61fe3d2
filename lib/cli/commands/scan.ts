import { openModels } from '../../io/discover';
import { saveScan } from '../../scan/result-io';
import { scanModelSet } from '../../scan/scan';
import type { ScanResult } from '../../scan/types';
import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';
import { fmtBytes, ProgressBar } from '../progress';
import { openOptionsFrom, SCAN_OPTIONS, scanOptionsFrom } from '../scan-options';
import { resolveTaskSpec } from '../task-env';

/** One line per skipped reason, with counts: what was left out and why. */
export function alignmentReport(scan: ScanResult): string[] {
  const lines: string[] = [];
  const byReason = new Map<string, number>();
  for (const s of scan.skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  for (const [reason, n] of byReason) lines.push(`left out ${n} tensor(s): ${reason}`);
  // Integer step counters are among those left out of the statistics, but they are read: say
  // so here, or a reader of the line above would think the counters were ignored.
  const counters = scan.counters ?? [];
  if (counters.length) {
    const shown = counters.slice(0, 3).map((c) => c.name).join(', ') + (counters.length > 3 ? `, … (${counters.length} names)` : '');
    lines.push(`read ${counters.length} step counter(s) as direction evidence: ${shown}`);
  }
  const prefixed = scan.tensors.filter((t) => t.rowPrefix);
  for (const t of prefixed) {
    lines.push(`${t.name}: rows ${[...new Set(t.rowPrefix!.fullRows)].join('/')} compared over the first ${t.rowPrefix!.rows}`);
  }
  const shared = new Set<number>();
  for (const t of scan.tensors) if (t.models.length > 1) t.models.forEach((m) => shared.add(m));
  const alone = scan.models.filter((_, i) => !shared.has(i)).map((m) => m.id);
  if (scan.models.length > 1 && alone.length) lines.push(`no tensor shared with any other model: ${alone.join(', ')}`);
  return lines;
}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'one streaming pass over the models: moments, Gram matrices, fake-init distances -> scan.json',
  description:
    'Discovers the models under the given paths (safetensors files, Hugging Face directories, sharded or not, diffusers folders, or folders of such models), aligns their tensors by name and shape, and computes in one pass over the bytes everything the learning-free methods need. The result is a documented JSON file (docs/scan-format.md). With --shard i/n only part i of n of the tensors is scanned; `phylogeny merge` adds the parts up to exactly the full scan.',
  positionals: [{ name: 'paths', description: 'model files or directories', variadic: true, required: true }],
  options: [
    { name: 'out', alias: 'o', type: 'string', arg: 'FILE', description: 'where to write the scan result (JSON)' },
    { name: 'shard', type: 'string', arg: 'i/n|auto', description: 'scan only part i of n of the tensors; auto takes i and n from a Slurm array task or a Kubernetes Indexed Job (docs/cluster.md)' },
    ...SCAN_OPTIONS,
    QUIET_OPTION,
  ],
  examples: ['phylogeny scan ./checkpoints --out scan.json', 'phylogeny scan ./llamas --fake-init hf --shard 1/4 --out part1.json', 'phylogeny scan ./llamas --shard auto --out parts/part-$SLURM_ARRAY_TASK_ID.json'],
  async run(args, io) {
    const out = args.opts.out as string | undefined;
    if (!out) throw new UsageError('scan needs --out FILE');
    const opts = scanOptionsFrom(args);
    const set = await openModels(args.positionals, openOptionsFrom(args));
    const bar = new ProgressBar('scan', { enabled: !io.quiet });
    const scan = await scanModelSet(set, {
      ...opts,
      shard: resolveTaskSpec(args.opts.shard as string | undefined),
      onProgress: (p) => bar.updateBytes(p.bytesDone, p.bytesTotal),
    });
    const rate = scan.run.seconds > 0 ? scan.run.bytes / scan.run.seconds : 0;
    bar.done(`${scan.models.length} models, ${scan.tensors.length} tensors, ${fmtBytes(scan.run.bytes)} at ${fmtBytes(rate)}/s on ${scan.run.device} (${scan.run.isa}, ${scan.run.threads} threads)`);
    if (!io.quiet) {
      for (const w of set.warnings) io.err(`note: ${w}\n`);
      for (const line of alignmentReport(scan)) io.err(`note: ${line}\n`);
      if (scan.run.fallbackReason) io.err(`note: CUDA not used: ${scan.run.fallbackReason}\n`);
    }
    saveScan(out, scan);
    return 0;
  },
};
