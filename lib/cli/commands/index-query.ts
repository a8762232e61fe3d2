import { queryIndex, QueryResult } from '../../hub/query';
import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';
import { DETECT_OPTIONS, detectOptionsFrom } from '../detect-options';
import { INDEX_OPTION } from './index-add';

function renderQuery(q: QueryResult): string {
  const lines = [`${q.model.id} (${q.model.path})${q.model.indexed ? ' [in the index]' : ''}`, `compared with ${q.candidates} of ${q.indexModels} indexed models`, ''];
  if (q.parents.length === 0) lines.push('likely parent: none found (a root, or its parent is not indexed)');
  for (const p of q.parents) lines.push(`likely parent: ${p.id}  confidence ${p.confidence.toFixed(2)}${p.direction !== undefined ? `, direction ${p.direction.toFixed(2)}` : ''}  (${p.path})`);
  for (const c of q.children) lines.push(`likely child:  ${c.id}  confidence ${c.confidence.toFixed(2)}  (${c.path})`);
  lines.push(`family: ${q.family.join(', ')}`, '', 'nearest relatives (estimated distance, weight correlation):');
  for (const r of q.relatives) lines.push(`  ${r.related ? '*' : ' '} ${r.id.padEnd(24)} ${r.distance.toPrecision(4).padStart(10)}  ${r.correlation.toFixed(3)}`);
  if (q.confirmed) {
    const p = q.confirmed.parents[0];
    lines.push('', `exact scan of ${q.confirmed.models.length} models: parent ${p ? `${p.id} (confidence ${p.confidence.toFixed(2)})` : 'none'}; ${q.confirmed.agrees ? 'agrees' : 'DISAGREES'} with the estimate`);
  }
  lines.push('', `(* related: correlation above the detection's gate; ${q.timings.total} ms)`);
  return `${lines.join('\n')}\n`;
}

export const indexQueryCommand: Command = {
  name: 'index query',
  summary: 'where does this model come from: nearest indexed relatives and likely parents',
  description:
    'Fingerprints the model, takes the nearest models of its architecture by sketch (inside DuckDB), estimates the statistics of the model and those candidates from their fingerprints and runs detection on them: relatives by distance and correlation, the likely parent and children with direction and confidence (docs/index.md). --confirm K re-runs the question with an exact scan of the model and its K nearest relatives.',
  positionals: [{ name: 'model', description: 'the model file or directory to look up', required: true }],
  options: [
    INDEX_OPTION,
    { name: 'format', alias: 'f', type: 'string', arg: 'F', description: 'output format', default: 'text', choices: ['text', 'json'] },
    { name: 'candidates', type: 'number', arg: 'N', description: 'candidates taken from the sketch prefilter', default: 64 },
    { name: 'top', type: 'number', arg: 'N', description: 'relatives listed', default: 10 },
    { name: 'confirm', type: 'number', arg: 'K', description: 'check with an exact scan of the model and its K nearest relatives', default: 0 },
    ...DETECT_OPTIONS,
    QUIET_OPTION,
  ],
  examples: ['phylogeny index query ./my-model --index ./hub-index', 'phylogeny index query ./my-model --index ./hub-index --confirm 3 --format json'],
  async run(args, io) {
    const dir = args.opts.index as string | undefined;
    if (!dir) throw new UsageError('index query needs --index DIR');
    for (const k of ['candidates', 'top', 'confirm']) {
      const v = args.opts[k] as number;
      if (!Number.isInteger(v) || v < (k === 'confirm' ? 0 : 1)) throw new UsageError(`--${k} must be a ${k === 'confirm' ? 'non-negative' : 'positive'} integer, got ${v}`);
    }
    const q = await queryIndex(dir, args.positionals[0], {
      candidates: args.opts.candidates as number,
      top: args.opts.top as number,
      confirm: args.opts.confirm as number,
      detect: detectOptionsFrom(args),
    });
    io.out(args.opts.format === 'json' ? `${JSON.stringify(q, null, 2)}\n` : renderQuery(q));
    return 0;
  },
};
