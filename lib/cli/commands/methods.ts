import { METHODS } from '../../detect/options';
import { Command } from '../command';

export const methodsCommand: Command = {
  name: 'methods',
  summary: 'list the detection methods',
  positionals: [],
  options: [],
  async run(_args, io) {
    const width = Math.max(...METHODS.map((m) => m.name.length), 'learned'.length);
    for (const m of METHODS) io.out(`${m.name.padEnd(width)}  ${m.description}\n`);
    io.out(`${'learned'.padEnd(width)}  transformer over edge embeddings from a trained detector (phylogeny train; --detector DIR)\n`);
    return 0;
  },
};
