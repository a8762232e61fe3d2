import { native, nativePath } from '../../native';
import { VERSION } from '../../version';
import { Command } from '../command';

export const infoCommand: Command = {
  name: 'info',
  summary: 'what this machine and build can run: CPU kernels, CUDA, addon',
  positionals: [],
  options: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, io) {
    const cpu = native().cpuInfo();
    const cuda = native().cudaStatus();
    const info = { version: VERSION, addon: nativePath(), cpu, cuda };
    if (args.opts.json) {
      io.out(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    io.out(`neural-phylogeny ${info.version}\naddon: ${info.addon}\n`);
    io.out(`cpu: ${cpu.threads} threads, kernels ${cpu.isa} (supported: ${cpu.supportedIsas.join(', ')}; ${cpu.features})\n`);
    if (cuda.usable) {
      for (const d of cuda.devices) io.out(`cuda: device ${d.index} ${d.name} (sm ${d.computeCapability}, ${(d.totalMemory / 2 ** 30).toFixed(0)} GiB)\n`);
    } else {
      io.out(`cuda: not usable: ${cuda.reason}\n`);
    }
    return 0;
  },
};
