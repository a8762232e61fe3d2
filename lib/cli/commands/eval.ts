import * as path from 'path';
import { openModels } from '../../io/discover';
import { methodSpec } from '../../detect/methods/registry';
import { ALL_METHODS, evaluateMethods, evaluateResult, formatEvalTable, MethodEval } from '../../eval/compare';
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
    { name: 'methods', type: 'list', arg: 'A,B,...', description: `methods to compare, 'learned' included (the shipped detector unless --detector) [default: all learning-free: ${ALL_METHODS.join(', ')}]` },
    { name: 'json', type: 'boolean', description: 'print JSON (metrics per method)' },
    ...DETECT_OPTIONS.filter((o) => o.name !== 'method'),
    ...SCAN_OPTIONS,
    QUIET_OPTION,
  ],
  examples: ['phylogeny eval ./zoo', 'phylogeny eval ./zoo --methods arborescence,mother --json', 'phylogeny eval ./zoo --methods additive-tree,learned'],
  async run(args, io) {
    const dir = args.positionals[0];
    const set = await openModels([dir]);
    if (!set.lineage) throw new UsageError(`${path.join(dir, 'lineage.json')} not found: eval needs the true lineage`);
    const methods = (args.opts.methods as string[] | undefined) ?? ALL_METHODS;
    for (const m of methods) {
      if (!METHOD_NAMES.includes(m)) throw new UsageError(`unknown method '${m}' (${METHOD_NAMES.join(', ')})`);
    }
    const bar = new ProgressBar('scan', { enabled: !io.quiet });
    const scan = await scanModelSet(set, { ...scanOptionsFrom(args), onProgress: (p) => bar.updateBytes(p.bytesDone, p.bytesTotal) });
    bar.done(`${scan.models.length} models, ${fmtBytes(scan.run.bytes)}`);
    const base = detectOptionsFrom(args, undefined);
    delete base.method;
    // In the order asked for; methods that read the weights (learned) run on the model set.
    const rows: MethodEval[] = [];
    for (const m of methods) {
      const modelFiles = methodSpec(m).modelFiles;
      if (!modelFiles) {
        rows.push(...evaluateMethods(scan, set.lineage, [m], base));
        continue;
      }
      const t0 = Date.now();
      const result = await modelFiles.run(scan, set, { detector: args.opts.detector as string | undefined });
      rows.push(evaluateResult(m, result, set.lineage, Date.now() - t0));
    }
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
