import { mergeIndexes } from '../../hub/merge';
import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';

export const indexMergeCommand: Command = {
  name: 'index merge',
  summary: 'merge partial fingerprint indexes (one per task of a job array) into one',
  description:
    'Copies every model of the given indexes into --out (created if missing), each input in one transaction. Models are keyed by content hash, so the merge is exact: the merged index answers every query and detection exactly as an index built on one machine from the same models.',
  positionals: [{ name: 'parts', description: 'index directories to merge', variadic: true, required: true }],
  options: [{ name: 'out', alias: 'o', type: 'string', arg: 'DIR', description: 'the merged index directory' }, QUIET_OPTION],
  examples: ['phylogeny index merge ./parts/* --out ./hub-index'],
  async run(args, io) {
    const out = args.opts.out as string | undefined;
    if (!out) throw new UsageError('index merge needs --out DIR');
    const s = await mergeIndexes(args.positionals, out);
    if (!io.quiet) io.err(`merged ${s.parts} indexes into ${s.out}: ${s.added} models added, ${s.total} in all\n`);
    return 0;
  },
};
