import { addToIndex } from '../../hub/add';
import { DEFAULT_FINGERPRINT_CONFIG } from '../../hub/sample';
import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';
import { fmtBytes, ProgressBar } from '../progress';
import { resolveTaskSpec } from '../task-env';

export const INDEX_OPTION = { name: 'index', type: 'string' as const, arg: 'DIR', description: 'the fingerprint index directory' };

export const indexAddCommand: Command = {
  name: 'index add',
  summary: 'fingerprint models into an index (incremental; one small read per model)',
  description:
    'Reads a fixed sample of rows of every tensor (about 1% of a large model\'s bytes; a model of at most 262,144 parameters is kept whole) and stores the fingerprint in the index (created if missing; docs/index.md). ' +
    'Every format the scan reads is indexed (safetensors, PyTorch .bin, GGUF, GPTQ/AWQ); a PEFT adapter is indexed when its base is among the paths of the same add (all tasks\' shares), else left out with a warning. ' +
    'Files whose path, size and modification time the index knows are not read again, and a model whose content hash is already indexed is not added twice. ' +
    'Models are committed in batches, each one transaction: a killed run keeps its committed batches and the next run resumes after them. ' +
    '--task i/n takes every n-th model found (in path order) starting at the i-th, so each task of a job array (Slurm --array, Kubernetes indexed jobs) indexes its own share into its own directory; `phylogeny index merge` joins them.',
  positionals: [{ name: 'paths', description: 'model files, model directories, or folders of models', variadic: true, required: true }],
  options: [
    { ...INDEX_OPTION, description: 'the index directory to add to (created if missing)' },
    { name: 'task', type: 'string', arg: 'i/n|auto', description: 'index only every n-th model found, starting at the i-th (1-based); auto takes i and n from a Slurm array task or a Kubernetes Indexed Job (docs/cluster.md)' },
    { name: 'fake-init', type: 'string', arg: 'SPEC', description: 'fake-init spec (default: per model, as `scan` would choose)' },
    { name: 'batch', type: 'number', arg: 'N', description: 'models per transaction', default: 32 },
    QUIET_OPTION,
  ],
  examples: [
    'phylogeny index add ./hub --index ./hub-index',
    'phylogeny index add ./hub --index ./parts/$SLURM_ARRAY_TASK_ID --task auto',
  ],
  async run(args, io) {
    const dir = args.opts.index as string | undefined;
    if (!dir) throw new UsageError('index add needs --index DIR');
    const batch = args.opts.batch as number;
    if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`--batch must be a positive integer, got ${batch}`);
    const bar = new ProgressBar('index', { enabled: !io.quiet });
    const s = await addToIndex(dir, args.positionals, {
      config: DEFAULT_FINGERPRINT_CONFIG,
      task: resolveTaskSpec(args.opts.task as string | undefined),
      fakeInit: args.opts['fake-init'] as string | undefined,
      batch,
      onProgress: (p) => bar.update(p.total ? p.done / p.total : 1, `${p.done}/${p.total} models, ${p.added} added, ${p.skipped} known`),
    });
    const share = s.modelBytes > 0 ? ` (${((100 * s.bytesRead) / s.modelBytes).toFixed(2)}% of ${fmtBytes(s.modelBytes)})` : '';
    bar.done(`${s.added} added, ${s.skipped} already indexed of ${s.selected} models; read ${fmtBytes(s.bytesRead)}${share} in ${s.seconds.toFixed(1)} s`);
    if (!io.quiet) for (const w of s.warnings) io.err(`note: ${w}\n`);
    return 0;
  },
};
