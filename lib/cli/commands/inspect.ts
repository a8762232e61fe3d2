import { formatInspect, inspectModel } from '../../io/inspect';
import { Command } from '../command';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'tensor table of one model (name, dtype, shape, bytes) and totals',
  positionals: [{ name: 'model', description: 'a safetensors file or a model directory', required: true }],
  options: [{ name: 'json', type: 'boolean', description: 'print JSON instead of a table' }],
  examples: ['phylogeny inspect ./llama-7b', 'phylogeny inspect model.safetensors --json'],
  async run(args, io) {
    const report = await inspectModel(args.positionals[0]);
    io.out(args.opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspect(report)}\n`);
    return 0;
  },
};
