import { methodSpecs } from '../../detect/methods/registry';
import { Command } from '../command';

export const methodsCommand: Command = {
  name: 'methods',
  summary: 'list the detection methods',
  positionals: [],
  options: [],
  async run(_args, io) {
    const specs = methodSpecs();
    const width = Math.max(...specs.map((m) => m.name.length));
    for (const m of specs) io.out(`${m.name.padEnd(width)}  ${m.description}\n`);
    return 0;
  },
};
