/** Options shared by the commands that scan (scan, detect, demo), and their translation. */
import { DEFAULT_ROW_PREFIX_RATIO } from '../scan/align';
import type { ScanOptions } from '../scan/scan';
import type { OptionSpec, ParsedArgs } from './args';
import { UsageError } from './args';

export const SCAN_OPTIONS: OptionSpec[] = [
  { name: 'threads', type: 'number', arg: 'N', description: 'worker threads (results do not depend on it) [default: all cores]' },
  { name: 'chunk-mb', type: 'number', arg: 'MB', description: 'MiB read per work item, all models together', default: 2 },
  { name: 'fake-init', type: 'string', arg: 'SPEC', description: "fake-initialization rules: 'auto' (PyTorch defaults), 'hf' (normal 0.02), or 'pattern=scheme;...' (see docs/fake-init.md) [default: hf(r) when every config.json has initializer_range r, else auto]" },
  { name: 'seed', type: 'number', arg: 'S', description: 'seed of the fake initialization', default: 0 },
  { name: 'include', type: 'list', arg: 'PATTERN', description: 'only tensors whose name matches (glob or /regex/; repeatable, comma-separated)' },
  { name: 'exclude', type: 'list', arg: 'PATTERN', description: 'leave out tensors whose name matches (glob or /regex/; repeatable)' },
  { name: 'adapter-base', type: 'list', arg: 'ADAPTER=BASE', description: 'the base of a PEFT adapter: adapter id = a model id or path among the inputs (repeatable; default: matched by base_model_name_or_path)' },
  { name: 'strict-dtypes', type: 'boolean', description: 'refuse tensors of integer/other dtypes (and tensors that cannot be read in place) instead of leaving them out of the statistics, the default' },
  { name: 'skip-non-float', type: 'boolean', description: 'leave tensors of integer/other dtypes out (the default; kept for old command lines, contradicts --strict-dtypes)' },
  { name: 'row-prefix-ratio', type: 'number', arg: 'R', description: 'compare the common row prefix of same-named tensors whose row counts have at least this min/max ratio (vocabulary resize)', default: DEFAULT_ROW_PREFIX_RATIO },
  { name: 'device', type: 'string', arg: 'D', description: 'where to scan', default: 'auto', choices: ['auto', 'cpu', 'cuda'] },
  { name: 'isa', type: 'string', arg: 'ISA', description: 'CPU kernel set', default: 'auto', choices: ['auto', 'scalar', 'avx2', 'avx512'] },
];

export function scanOptionsFrom(args: ParsedArgs): ScanOptions {
  const o = args.opts;
  const threads = o.threads as number | undefined;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new UsageError('--threads must be a positive integer');
  const chunk = o['chunk-mb'] as number;
  if (!(chunk > 0)) throw new UsageError('--chunk-mb must be positive');
  const seed = o.seed as number;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError('--seed must be a non-negative integer');
  if (o['strict-dtypes'] && o['skip-non-float']) throw new UsageError('--strict-dtypes and --skip-non-float contradict each other');
  const ratio = o['row-prefix-ratio'] as number;
  if (!(ratio > 0 && ratio <= 1)) throw new UsageError('--row-prefix-ratio must be in (0, 1]');
  return {
    threads,
    chunkMb: chunk,
    fakeInit: o['fake-init'] as string | undefined,
    seed,
    include: o.include as string[] | undefined,
    exclude: o.exclude as string[] | undefined,
    skipNonFloat: Boolean(o['skip-non-float']),
    strictDtypes: Boolean(o['strict-dtypes']),
    rowPrefixMinRatio: ratio,
    device: o.device as ScanOptions['device'],
    isa: o.isa as ScanOptions['isa'],
  };
}

/** --adapter-base ADAPTER=BASE, as openModels takes it. */
export function openOptionsFrom(args: ParsedArgs): { adapterBases?: Record<string, string> } {
  const list = (args.opts['adapter-base'] as string[] | undefined) ?? [];
  if (!list.length) return {};
  const adapterBases: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0 || i === item.length - 1) throw new UsageError(`--adapter-base takes ADAPTER=BASE, got '${item}'`);
    adapterBases[item.slice(0, i)] = item.slice(i + 1);
  }
  return { adapterBases };
}
