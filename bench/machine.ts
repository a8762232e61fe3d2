/** A one-line description of the machine a benchmark ran on. */
import * as fs from 'fs';
import * as os from 'os';
import { native } from '../lib/native';

export function machineDescription(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    /* not Linux */
  }
  const cpu = native().cpuInfo();
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${model}, ${os.cpus().length} cores, ${gib} GiB, kernels ${cpu.isa}, Node ${process.versions.node}, ${os.platform()} ${os.release()}`;
}
