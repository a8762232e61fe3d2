import { loadScan, mergeScans, saveScan } from '../../scan/result-io';
import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'add up partial scans (--shard i/n) into the full scan',
  description:
    'Merges scan results of the same models, seed and fake init over disjoint tensor shards. The merge of all n shards equals the full scan exactly, so a scan can be split across processes or machines (Slurm arrays, Kubernetes indexed jobs) and merged at the end.',
  positionals: [{ name: 'parts', description: 'partial scan results (JSON)', variadic: true, required: true }],
  options: [{ name: 'out', alias: 'o', type: 'string', arg: 'FILE', description: 'where to write the merged scan' }, QUIET_OPTION],
  examples: ['phylogeny merge part1.json part2.json part3.json part4.json --out scan.json'],
  async run(args, io) {
    const out = args.opts.out as string | undefined;
    if (!out) throw new UsageError('merge needs --out FILE');
    const parts = args.positionals.map((path) => ({ path, scan: loadScan(path) }));
    const merged = mergeScans(parts);
    saveScan(out, merged);
    if (!io.quiet) {
      const partial = merged.shard ? ` (still partial: not all ${merged.shard.count} shards given)` : '';
      io.err(`merged ${parts.length} parts: ${merged.tensors.length} tensors over ${merged.models.length} models${partial}\n`);
    }
    return 0;
  },
};
