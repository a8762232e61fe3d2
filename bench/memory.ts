/**
 * `npm run bench:memory`: scans two synthetic BF16 models of 8 GB each and reports the peak
 * anonymous memory of the process (RssAnon from /proc/self/status, sampled every 10 ms while
 * the native scan runs off the main thread) and its peak RSS (VmHWM). Target: < 1 GiB.
 * Needs ~16 GB of free disk for the fixtures (cached in .cache/bench, or NP_BENCH_DIR).
 *
 *   npm run bench:memory [-- --gb 8]
 */
import * as fs from 'fs';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { benchModelFast } from './fixtures';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['gb']);

function status(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of fs.readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function main() {
  const i = process.argv.indexOf('--gb');
  const gb = i > 0 ? Number(process.argv[i + 1]) : 8;
  const params = Math.round((gb * 1e9) / 2);
  process.stderr.write(`writing/reusing two ${gb} GB BF16 models...\n`);
  const files = [benchModelFast(params, 1), benchModelFast(params, 2)];
  const set = await openModels(files);
  const before = status();
  let peakAnon = before.RssAnon ?? 0;
  const timer = setInterval(() => {
    peakAnon = Math.max(peakAnon, status().RssAnon ?? 0);
  }, 10);
  const t0 = Date.now();
  const scan = await scanModelSet(set, {});
  clearInterval(timer);
  const after = status();
  peakAnon = Math.max(peakAnon, after.RssAnon ?? 0);
  const seconds = (Date.now() - t0) / 1000;
  const lines = [
    `Memory: scan of 2 BF16 models of ${(set.models[0].bytes / 1e9).toFixed(2)} GB each (${scan.tensors.length} tensors)`,
    `Machine: ${machineDescription()}`,
    `peak anonymous memory (RssAnon): ${mib(peakAnon)} (before the scan: ${mib(before.RssAnon ?? 0)})`,
    `peak resident set (VmHWM): ${mib(after.VmHWM ?? 0)}`,
    `scan: ${seconds.toFixed(1)} s, ${(scan.run.bytes / seconds / 1e9).toFixed(2)} GB/s, ${scan.run.threads} threads, ${scan.run.isa}`,
    `target < 1024 MiB: ${peakAnon < 2 ** 30 ? 'met' : 'NOT met'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench:memory failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
