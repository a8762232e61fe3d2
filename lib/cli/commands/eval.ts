import * as path from 'path';
import { openModels } from '../../io/discover';
import { ALL_METHODS, evaluateMethods, formatEvalTable } from '../../eval/compare';
import { formatConfusion } from '../../eval/metrics';
import { scanModelSet } from '../../scan/scan';
import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';
import { DETECT_OPTIONS, detectOptionsFrom, METHOD_NAMES } from '../detect-options';
import { fmtBytes, ProgressBar } from '../progress';
import { SCAN_OPTIONS, scanOptionsFrom } from '../scan-options';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score detection methods against the truth in <dir>/lineage.json',
  description:
    'Scans the model set once, runs each method and prints, per method: directed-edge accuracy (share of true parent->child edges found with the right direction), precision, recall and F1 over directed edges, direction accuracy on correctly paired edges, the adjusted Rand index of the families, typed-edge accuracy (right pair, direction and type: finetune, peft, merge, quantized, duplicate), multi-parent recall (merged children with every parent found) and false merges; then the type confusion table of the first method.',
  positionals: [{ name: 'dir', description: 'a folder of models with lineage.json', required: true }],
  options: [
    { name: 'methods', type: 'list', arg: 'A,B,...', description: `methods to compare [default: all learning-free: ${ALL_METHODS.join(', ')}]` },
    { name: 'json', type: 'boolean', description: 'print JSON (metrics per method)' },
    ...DETECT_OPTIONS.filter((o) => o.name !== 'method' && o.name !== 'detector'),
    ...SCAN_OPTIONS,
    QUIET_OPTION,
  ],
  examples: ['phylogeny eval ./zoo', 'phylogeny eval ./zoo --methods arborescence,mother --json'],
  async run(args, io) {
    const dir = args.positionals[0];
    const set = await openModels([dir]);
    if (!set.lineage) throw new UsageError(`${path.join(dir, 'lineage.json')} not found: eval needs the true lineage`);
    const methods = (args.opts.methods as string[] | undefined) ?? ALL_METHODS;
    for (const m of methods) {
      if (!METHOD_NAMES.includes(m) || m === 'learned') throw new UsageError(`unknown method '${m}' (learning-free: ${ALL_METHODS.join(', ')})`);
    }
    const bar = new ProgressBar('scan', { enabled: !io.quiet });
    const scan = await scanModelSet(set, { ...scanOptionsFrom(args), onProgress: (p) => bar.updateBytes(p.bytesDone, p.bytesTotal) });
    bar.done(`${scan.models.length} models, ${fmtBytes(scan.run.bytes)}`);
    const base = detectOptionsFrom(args, undefined);
    delete base.method;
    const rows = evaluateMethods(scan, set.lineage, methods, base);
    if (args.opts.json) {
      io.out(`${JSON.stringify(rows.map((r) => ({ method: r.method, ...r.metrics, ms: r.ms })), null, 2)}\n`);
    } else {
      io.out(`${formatEvalTable(rows)}\n`);
      // The type confusion of the first method listed (the default method unless --methods says otherwise).
      if (rows.length > 0) io.out(`\nedge types, ${rows[0].method} (rows: true type, columns: detected type):\n${formatConfusion(rows[0].metrics.typed.confusion)}\n`);
    }
    return 0;
  },
};
